# The README's two commands: `make run` and `make test`. Both bootstrap a fresh Debian 12 machine
# first (scripts/bootstrap: apt and npm, idempotent), then build with CMake and Ninja.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
SANITIZE_DIR ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all bootstrap build run test test-unit test-integration test-e2e test-sanitize lint format clean

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: bootstrap $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts the main job on the embedded default: the local demo fleet (scripts/run-demo).
run: build
	@scripts/run-demo $(BUILD_DIR)/src/deepwatch

# Every suite: layering check, unit, integration, e2e.
test: build
	scripts/check_layers
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(JOBS) -LE slow

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit -j $(JOBS)

test-integration: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

test-e2e: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L e2e

# The same suites built with AddressSanitizer and UndefinedBehaviorSanitizer.
test-sanitize: bootstrap
	cmake -S . -B $(SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDW_SANITIZE=ON
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	cd $(SANITIZE_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure --timeout 900 -j $(JOBS) -LE slow

lint:
	scripts/check_layers
	git ls-files '*.cc' '*.h' | xargs clang-format --dry-run -Werror

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR)
