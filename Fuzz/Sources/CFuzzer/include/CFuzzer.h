// Hands control to libFuzzer from a target's own main. SwiftPM gives every executable target
// a main of its own (the linker maps `main` to it), so libFuzzer's main never runs; this
// calls libFuzzer's driver on the target's LLVMFuzzerTestOneInput instead.
int rusty_fuzz_main(int argc, char **argv);
