# SPDX-License-Identifier: GPL-2.0
# Where scripts/deps.sh keeps what it fetched (must match scripts/lib.sh).
PATDEV_CACHE ?= $(or $(XDG_CACHE_HOME),$(or $(HOME),/root)/.cache)/patdev
KSRC ?= $(PATDEV_CACHE)/linux-6.1
