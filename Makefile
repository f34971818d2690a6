# SPDX-License-Identifier: GPL-2.0
# migrate_pages2: the commands.  Each is a verb of harness/mp2.py, which
# keeps everything it generates in out/ (or $MP2_OUT).
# ARCH=arm64: the arm64 guest (make test ARCH=arm64, kernel, run, shell)
MP2 := python3 harness/mp2.py $(if $(ARCH),--arch $(ARCH))

.PHONY: test demo bench profile pristine-bench mm-selftests stress kernel cli run shell series series-check clean deps fresh-check

test:
	$(MP2) test

demo:
	$(MP2) demo

# make bench [REPS=5] [SCALE=1] [ONLY=1,3,8] [REUSE=1]; a full run updates results/
# (REUSE=1: the last run's consoles reported again, no boots)
# make bench PROFILE=1 is make profile
bench:
ifeq ($(PROFILE),1)
	$(MP2) profile
else
	$(MP2) bench $(if $(REPS),--reps $(REPS)) $(if $(SCALE),--scale $(SCALE)) \
		$(if $(ONLY),--only $(ONLY)) $(if $(REUSE),--reuse)
endif

# the function profiler on one move per method; writes results/profile.md
profile:
	$(MP2) profile

# migrate_pages(2) on the pristine kernel against the patched one,
# alternating boots; writes results/pristine.md [BOOTS=3]
pristine-bench:
	$(MP2) pristine-bench $(if $(BOOTS),--boots $(BOOTS))

# mainline's mm selftests on the pristine and the patched kernel, side by
# side; fails on any difference (~25 min the first time: two kernel builds)
# [REUSE=1: the last run's consoles reported again, no builds or boots]
mm-selftests:
	$(MP2) mm-selftests $(if $(REUSE),--reuse)

# make stress [SECONDS=30]: per stress test, on a KASAN + kmemleak kernel
stress:
	$(MP2) stress $(if $(SECONDS),--seconds $(SECONDS))

kernel:
	$(MP2) kernel

cli:
	$(MP2) cli

# make run CMD='cat /proc/meminfo' FILES='a.out b.sh'
run:
	$(MP2) run $(if $(FILES),--files $(FILES)) -- "$(CMD)"

shell:
	$(MP2) shell $(if $(FILES),--files $(FILES))

series:
	$(MP2) series

# every patch of the series built in turn, then with the options off; W=1,
# sparse and kernel-doc on the files it adds and changes (~25 min)
series-check:
	$(MP2) series-check

deps:
	$(MP2) deps

clean:
	$(MP2) clean

# make test inside minimal Debian 12 and Debian 13 roots (debootstrap), with
# only the README's prerequisite line installed; slow (a from-scratch build
# each) [SUITES=bookworm,trixie]
fresh-check:
	$(MP2) fresh-check $(if $(SUITES),--suites $(SUITES))
