// SPDX-License-Identifier: GPL-2.0
/* Feature test (Kbuild): pte_mkwrite_novma() and x86's SavedDirty, 6.6. */
#include <linux/mm.h>

pte_t patdev_conftest(pte_t pte);
pte_t patdev_conftest(pte_t pte)
{
	return pte_clear_saveddirty(pte_mkwrite_novma(pte));
}
