// SPDX-License-Identifier: GPL-2.0
/*
 * What the CPU makes of the cache bits of an entry. PAT, PCD and PWT index
 * the PAT register, whose entry there is the memory type. Decoding through
 * the register itself, not through Linux's tables, keeps the answer true
 * when PAT is off (nopat, or a CPU or hypervisor without it): Linux then
 * folds the types the hardware lacks into UC-, and a reverse lookup of its
 * tables would name the type that was asked for, not the one in force.
 */
#include <linux/mm.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include "patdev.h"

/* Memory type of each PAT index, from the register. */
static enum patdev_cache pat_types[8];

/* The register's power-on value: also what PCD and PWT mean without PAT. */
#define PAT_POWER_ON	0x0007040600070406ULL

static enum patdev_cache patdev_pat_type(u8 type)
{
	switch (type) {
	case 0:
		return PATDEV_CACHE_UC;
	case 1:
		return PATDEV_CACHE_WC;
	case 4:
		return PATDEV_CACHE_WT;
	case 5:
		return PATDEV_CACHE_WP;
	case 6:
		return PATDEV_CACHE_WB;
	default:
		/* 7; 2 and 3 are reserved encodings no kernel programs. */
		return PATDEV_CACHE_UC_MINUS;
	}
}

void patdev_pat_init(void)
{
	u64 pat = PAT_POWER_ON;
	u32 lo, hi;
	int i;

	/*
	 * Linux programs every CPU's register alike: the boot CPU's will do.
	 * A register reading 0 (all UC) is firmware that disabled PAT, as
	 * Linux's pat_bp_init() sees it too: the power-on meaning then holds.
	 */
	if (boot_cpu_has(X86_FEATURE_PAT) && !rdmsr_safe(MSR_IA32_CR_PAT, &lo, &hi) &&
	    (lo || hi))
		pat = (u64)hi << 32 | lo;
	for (i = 0; i < ARRAY_SIZE(pat_types); i++)
		pat_types[i] = patdev_pat_type((pat >> (i * 8)) & 7);
}

/**
 * patdev_pat_decode() - memory type of an entry's protection bits
 * @prot: the bits, in the 4 KiB entry layout (PAT at bit 7)
 *
 * Return: the type the CPU applies to accesses through such an entry.
 */
enum patdev_cache patdev_pat_decode(pgprot_t prot)
{
	pteval_t v = pgprot_val(prot);

	return pat_types[(v & _PAGE_PAT ? 4 : 0) | (v & _PAGE_PCD ? 2 : 0) |
			 (v & _PAGE_PWT ? 1 : 0)];
}

/**
 * patdev_pat_effective() - the mode an object asking for @want really gets
 * @want: WB, WC or UC-
 *
 * Return: @want with PAT on; without PAT, WC comes out UC-, which is what
 * every entry of such an object then is, and what the object reports. A
 * register layout that would give a mode no object may have gives UC-,
 * the strongest type RAM can have.
 */
enum patdev_cache patdev_pat_effective(enum patdev_cache want)
{
	enum patdev_cache got;

	static const enum page_cache_mode to_linux[] = {
		[PATDEV_CACHE_WB] = _PAGE_CACHE_MODE_WB,
		[PATDEV_CACHE_WC] = _PAGE_CACHE_MODE_WC,
		[PATDEV_CACHE_UC_MINUS] = _PAGE_CACHE_MODE_UC_MINUS,
	};

	if (!patdev_cache_supported(want))
		return want;
	got = patdev_pat_decode(__pgprot(cachemode2protval(to_linux[want])));
	return patdev_cache_supported(got) ? got : PATDEV_CACHE_UC_MINUS;
}

/**
 * patdev_kernel_cache() - the memory type of the kernel's mapping of @addr
 * @addr: a kernel virtual address: the direct map, vmalloc or ioremap space
 *
 * Read from the kernel's page table, at whatever level maps @addr.
 *
 * Return: the decoded type; WB where nothing maps @addr.
 */
enum patdev_cache patdev_kernel_cache(unsigned long addr)
{
	unsigned int level;
	pte_t *pte = lookup_address(addr, &level);

	if (!pte)
		return PATDEV_CACHE_WB;
	/* A large entry's PAT bit is bit 12, which pte_pgprot() drops. */
	switch (level) {
	case PG_LEVEL_4K:
		return patdev_pat_decode(pte_pgprot(*pte));
	case PG_LEVEL_2M:
		return patdev_pat_decode(pgprot_large_2_4k(pmd_pgprot(*(pmd_t *)pte)));
	default:
		return patdev_pat_decode(pgprot_large_2_4k(pud_pgprot(*(pud_t *)pte)));
	}
}
