//! Arguments, environment, exit status, constructors, unsupported syscalls and
//! faults, each checked by booting a test program.

use rumprun_system_tests::*;

#[test]
fn argv_with_spaces_arrives_intact() {
    let run = boot_c("args.c", Flavor::Glibc, &[], &["two words", "x"]);
    run.assert_status(0)
        .assert_stdout_line("argc=3")
        .assert_stdout_line("argv[1]=[two words]")
        .assert_stdout_line("argv[2]=[x]");
    // argv[0] is the program's name, whatever the launcher chose: never empty.
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("argv[0]=[") && l != "argv[0]=[]"),
        "no argv[0]:\n{}",
        run.dump()
    );
}

#[test]
fn argv_with_quotes_and_backslashes_arrives_intact() {
    let tricky = [
        r#"say "hi""#,
        "it's",
        r"back\slash",
        r"trailing\",
        "",
        "  lead and trail  ",
        "{\"json\": [1,2]}",
        "tab\there",
    ];
    let run = boot_c("args.c", Flavor::Musl, &[], &tricky);
    run.assert_status(0)
        .assert_stdout_line(&format!("argc={}", tricky.len() + 1));
    for (i, a) in tricky.iter().enumerate() {
        run.assert_stdout_line(&format!("argv[{}]=[{a}]", i + 1));
    }
}

#[test]
fn env_variables_arrive() {
    let run = boot_c(
        "args.c",
        Flavor::Glibc,
        &["-e", "WORLD=mars", "-e", "SPACED=a b  c"],
        &["-env", "WORLD", "-env", "SPACED", "-env", "UNSET_VAR"],
    );
    run.assert_status(0)
        .assert_stdout_line("env[WORLD]=[mars]")
        .assert_stdout_line("env[SPACED]=[a b  c]")
        .assert_stdout_line("env[UNSET_VAR]=[<unset>]");
}

#[test]
fn env_variable_reaches_hello() {
    let run = boot_c("hello.c", Flavor::Musl, &["-e", "WORLD=mars"], &[]);
    run.assert_status(0).assert_stdout_line("Hello, mars!");
}

#[test]
fn hostname_arrives() {
    let run = boot_c("args.c", Flavor::Glibc, &["-N", "rumpbox"], &["-hostname"]);
    run.assert_status(0)
        .assert_stdout_line("hostname=[rumpbox]");
}

#[test]
fn exit_status_from_main() {
    let run = boot_c("exit_status.c", Flavor::Glibc, &[], &["3"]);
    run.assert_status(3)
        .assert_stdout_line("returning 3 from main")
        .assert_main_markers("returning 3 from main", 3);
}

#[test]
fn exit_status_from_nested_exit() {
    let run = boot_c("exit_status.c", Flavor::Glibc, &[], &["3", "nested"]);
    run.assert_status(3)
        .assert_stdout_line("calling exit(3) from a nested function")
        .assert_output_lacks("returning 3 from main");
}

#[test]
fn exit_status_musl_nested() {
    let run = boot_c("exit_status.c", Flavor::Musl, &[], &["42", "nested"]);
    run.assert_status(42)
        .assert_stdout_line("calling exit(42) from a nested function");
}

#[test]
fn constructors_run_in_priority_order_and_destructors_run() {
    let run = boot_c("ctor_test.c", Flavor::Glibc, &[], &[]);
    run.assert_status(0)
        .assert_stdout_line("myvalue = 8 (expect 8)")
        .assert_stdout_line("ctor_test: ok")
        .assert_order("I'm a constructor!", "myvalue = 8")
        .assert_order("ctor_test: ok", "I'm a destructor!");
}

#[test]
fn unsupported_syscall_gives_enosys_and_goes_on() {
    let run = boot_c("enosys.c", Flavor::Glibc, &[], &[]);
    run.assert_status(0)
        .assert_stdout_line("errno ENOSYS ok")
        .assert_stdout_line("still running")
        .assert_output_contains("unsupported syscall kexec_load (246)");
    let n = run
        .all_output()
        .matches("unsupported syscall kexec_load (246)")
        .count();
    assert_eq!(n, 1, "logged once per syscall number:\n{}", run.dump());
}

#[test]
fn null_dereference_is_reported_and_fails() {
    let run = boot_c("crash.c", Flavor::Glibc, &[], &[]);
    run.assert_status(139)
        .assert_stdout_line("about to crash")
        .assert_output_contains("SIGSEGV")
        .assert_output_contains("<crash_here+0x")
        .assert_output_lacks("crash_here returned");
}

#[test]
fn verbose_levels_show_boot_steps_and_a_syscall_trace() {
    let quiet = boot_c("hello.c", Flavor::Musl, &[], &[]);
    quiet
        .assert_status(0)
        .assert_output_lacks("rumprun: booted via");
    let v1 = boot_c("hello.c", Flavor::Musl, &["-e", "RUMPRUN_VERBOSE=1"], &[]);
    v1.assert_status(0)
        .assert_output_contains("rumprun: booted via PVH")
        .assert_output_lacks("[1] writev");
    let v2 = boot_c("hello.c", Flavor::Musl, &["-e", "RUMPRUN_VERBOSE=2"], &[]);
    v2.assert_status(0)
        .assert_output_contains("[1] set_tid_address(")
        .assert_output_contains("[1] writev = 0x")
        .assert_output_contains("[1] exit_group(0x0,");
}

#[test]
fn stack_overflow_in_c_is_a_segv_report() {
    boot_c("stack_overflow.c", Flavor::Glibc, &[], &[])
        .assert_status(139)
        .assert_output_contains("killed by SIGSEGV (page fault): write to unmapped memory")
        .assert_output_contains("<f+0x");
}

#[test]
fn stack_overflow_in_rust_runs_std_guard_handler_on_the_alternate_stack() {
    let image = bake(&build_rust("rust-overflow"));
    rumprun_qemu(&image, &[], &[])
        .assert_status(134)
        .assert_output_contains("thread 'main' (1) has overflowed its stack")
        .assert_output_contains("killed by SIGABRT");
}

/// Kernel code running with a program's GS base (seen under Xen nested in QEMU's TCG)
/// is reported in one line and ends the boot, instead of page-faulting on `%gs` for
/// ever (trap_common checks the GS base with RDGSBASE; QEMU's `-cpu max` has it).
#[test]
fn kernel_code_with_a_programs_gs_base_is_reported() {
    boot_c(
        "hello.c",
        Flavor::Musl,
        &["-e", "RUMPRUN_SELFTEST=program-gs-in-kernel"],
        &[],
    )
    .assert_status(255)
    .assert_output_contains("took vector 3 with a program's GS base")
    .assert_output_lacks("=== calling");
}

/// An interrupt delivered again at its handler's first instruction with interrupts off
/// (a hypervisor re-injecting one it had delivered: Xen nested in QEMU 7.2's TCG does)
/// is reported in one line: what it interrupted is lost, so the kernel stops.
#[test]
fn a_redelivered_interrupt_is_reported() {
    boot_c(
        "hello.c",
        Flavor::Musl,
        &["-e", "RUMPRUN_SELFTEST=redelivered-interrupt"],
        &[],
    )
    .assert_status(255)
    .assert_output_contains("interrupt 48 was delivered again at its handler's first instruction")
    .assert_output_lacks("=== calling");
}

/// The idle poll's maximum (`RUMPRUN_IDLE_POLL_US`, sched::idle_poll): a value that
/// is not a number of microseconds up to 100000 is ignored with one line, and the
/// program runs; 0 (no poll) runs it too; a valid one turns the poll on.
#[test]
fn a_bad_idle_poll_setting_is_ignored_with_one_line() {
    for bad in ["abc", "100001", "-5"] {
        boot_c(
            "hello.c",
            Flavor::Musl,
            &["-e", &format!("RUMPRUN_IDLE_POLL_US={bad}")],
            &[],
        )
        .assert_status(0)
        .assert_output_contains(&format!(
            "rumprun: ignoring RUMPRUN_IDLE_POLL_US={bad} (want microseconds, 0 to 100000)"
        ))
        .assert_output_contains("Hello");
    }
    boot_c(
        "hello.c",
        Flavor::Musl,
        &["-e", "RUMPRUN_IDLE_POLL_US=0"],
        &[],
    )
    .assert_status(0)
    .assert_output_lacks("ignoring RUMPRUN_IDLE_POLL_US")
    .assert_output_contains("Hello");
    // Asked for, it is on (RUMPRUN_VERBOSE says so); by default it is off here: QEMU's
    // TCG gives no KVM hint that the vCPU has a host CPU of its own.
    let verbose = ["-e", "RUMPRUN_VERBOSE=1"];
    boot_c(
        "hello.c",
        Flavor::Musl,
        &[&verbose[..], &["-e", "RUMPRUN_IDLE_POLL_US=150"]].concat(),
        &[],
    )
    .assert_status(0)
    .assert_output_contains("rumprun: idle poll: up to 150 us before the CPU halts");
    boot_c("hello.c", Flavor::Musl, &verbose, &[])
        .assert_status(0)
        .assert_output_lacks("idle poll")
        .assert_output_contains("Hello");
}

#[test]
fn kernel_fault_report_names_the_kernel_function() {
    boot_c(
        "hello.c",
        Flavor::Musl,
        &["-e", "RUMPRUN_SELFTEST=kernel-fault"],
        &[],
    )
    .assert_status(255)
    .assert_output_contains(
        "rumprun: kernel fault: page fault at address 0xffffc00000000000, 0xffffffff",
    )
    .assert_output_contains("<kernel: rumprun_kernel::selftest::kernel_fault+0x")
    .assert_output_contains("#1 0xffffffff")
    .assert_output_lacks("=== calling");
}
