# SPDX-License-Identifier: GPL-2.0
#
# make [KVER=<release>]	build patdev.ko (default: the running kernel)
# make demo		boot the default kernel in a VM and run the demo
# make check		every check and test, on Debian 6.1 and 6.12
# make bench		boot the default kernel in a VM and run the benchmark
# make deb		the Debian packages, into deb/: apt install ./deb/patdev-dkms_*_all.deb

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build

all: modules

modules:
	@test -d $(KDIR) || { echo "no headers for $(KVER) at $(KDIR): use KVER=<release>, or run scripts/deps.sh"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	@if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(MAKE) -C selftests clean
	$(MAKE) -C tools clean
	rm -rf deb

demo:
	scripts/vm-job.sh demo

check:
	scripts/check.sh

bench:
	scripts/vm-job.sh bench

# The version lives in the uapi header only (scripts/version.sh).
deb:
	scripts/deb.sh deb

.PHONY: all modules clean demo check bench deb
