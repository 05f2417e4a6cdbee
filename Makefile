# Thin wrapper over CMake presets: `make run` and `make test` are the two commands a new
# machine needs (both install what is missing first).
JOBS ?= 2
BROKER_ARGS ?=

.PHONY: all deps deps-build debug release asan fuzz run test test-unit test-suites test-fuzz \
        fmt fmt-check lint clean

all: debug

deps-build:
	@scripts/install-deps.sh build

deps:
	@scripts/install-deps.sh test

debug: deps-build
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j$(JOBS)

release: deps-build
	cmake --preset release >/dev/null
	cmake --build --preset release -j$(JOBS)

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j$(JOBS)

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j$(JOBS)

# Starts the broker on its embedded default, seeded with a demo challenge, and a demo grader
# (Ctrl-C stops them).
run: release
	BROKER_ARGS="$(BROKER_ARGS)" scripts/run.sh

# Every test: format check, unit tests and protocol suites under ASan+UBSan, then fuzzing.
test: fmt-check asan fuzz
	cd build/asan && ctest --output-on-failure --timeout 600
	cd build/fuzz && ctest --output-on-failure --timeout 600 -R '^fuzz'

test-unit: asan
	cd build/asan && ctest --output-on-failure -R '^unit'

fmt:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]')

fmt-check:
	@command -v clang-format >/dev/null || scripts/install-deps.sh test
	clang-format --dry-run --Werror $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]')

lint: debug
	cppcheck --enable=warning,performance,portability --std=c11 --inline-suppr \
	    --error-exitcode=1 --quiet -I src src

clean:
	rm -rf build
