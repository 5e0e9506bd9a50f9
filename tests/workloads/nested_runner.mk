# Benign: make -j2 runs two parallel test runners, each with a worker pool
# whose tests start subprocesses.
PY ?= /usr/bin/python3
HERE := $(dir $(lastword $(MAKEFILE_LIST)))
all: suite1 suite2
suite1 suite2:
	$(PY) $(HERE)py_test_runner.py 30
.PHONY: all suite1 suite2
