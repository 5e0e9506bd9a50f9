# Bomb: a Makefile whose "parallel" target starts two sub-makes of itself in
# the background through the shell.  The sub-make goals come from variables
# whose names are misspelt (BUILD_TARGETA vs BUILD_TARGET_A), so they expand
# to nothing and each sub-make builds the default goal again:
# make -> sh -> 2 x make -> sh -> ...  Run it only under build/contain.
#
#     make -f make_shell_bomb.mk
SELF := $(abspath $(lastword $(MAKEFILE_LIST)))
BUILD_TARGET_A := lib
BUILD_TARGET_B := tools

all:
	@echo "building $(BUILD_TARGETA) and $(BUILD_TARGETB) in parallel"
	$(MAKE) -f $(SELF) $(BUILD_TARGETA) & $(MAKE) -f $(SELF) $(BUILD_TARGETB) & wait

lib:
	@echo "[lib] done"

tools:
	@echo "[tools] done"

.PHONY: all lib tools
