//! The program's FPU/SSE state across the kernel: xmm registers across syscalls, the
//! x87 stack across a blocking syscall, a rounding mode per thread across futex waits,
//! and a signal handler that scrambles the state (tests/programs/fpu_state.c).

use rumprun_system_tests::*;

#[test]
fn fpu_state_survives_syscalls_threads_and_signals_glibc() {
    boot_c("fpu_state.c", Flavor::Glibc, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ALL OK");
}

#[test]
fn fpu_state_survives_syscalls_threads_and_signals_musl() {
    boot_c("fpu_state.c", Flavor::Musl, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ALL OK");
}

/// AVX is enabled and all sixteen ymm registers survive syscalls, thread switches and
/// signal handlers entered at syscall and interrupt returns (tests/programs/avx_state.c).
#[test]
fn avx_ymm_state_survives_syscalls_threads_and_signals_glibc() {
    boot_c("avx_state.c", Flavor::Glibc, &[], &[])
        .assert_status(0)
        .assert_stdout_line(
            "ok: ymm0-15 across a blocking nanosleep while another thread used them",
        )
        .assert_stdout_line("ALL OK");
}

#[test]
fn avx_ymm_state_survives_syscalls_threads_and_signals_musl() {
    boot_c("avx_state.c", Flavor::Musl, &[], &[])
        .assert_status(0)
        .assert_stdout_line(
            "ok: ymm0-15 across a handler entered at an interrupt's return (SIGALRM)",
        )
        .assert_stdout_line("ALL OK");
}
