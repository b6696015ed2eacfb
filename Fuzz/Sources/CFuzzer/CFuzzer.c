#include <stddef.h>
#include <stdint.h>
#include "CFuzzer.h"

// From libFuzzer (compiler-rt FuzzerInterface.h), linked by -sanitize=fuzzer.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
// Defined by each target with @_cdecl.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int rusty_fuzz_main(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }
