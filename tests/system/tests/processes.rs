//! Processes inside the unikernel (fork, vfork, execve, wait, groups): the C tests in
//! tests/programs run with glibc and with musl.

// Inside `mod processes` so that `tests/run -- processes` selects them all.
mod processes {
    use rumprun_system_tests::*;
    use std::path::PathBuf;
    use std::process::Command;

    /// exec_test built four ways (glibc static, static-pie, musl, glibc dynamic),
    /// baked into one image; each is /bin/<file name> in the guest.
    fn exec_image() -> (PathBuf, Vec<String>) {
        let dynamic = scratch_dir("processes").join("exec_test-dyn");
        check_output(
            Command::new("gcc")
                .args(["-O2", "-g", "-Wall", "-Werror", "-o"])
                .arg(&dynamic)
                .arg(program_source("exec_test.c")),
            "building exec_test.c dynamically with gcc",
        );
        assert!(elf_kind(&dynamic).1, "exec_test-dyn should be dynamic");
        let progs = [
            build_c("exec_test.c", Flavor::Glibc),
            build_c("exec_test.c", Flavor::GlibcStaticPie),
            build_c("exec_test.c", Flavor::Musl),
            dynamic,
        ];
        let names = progs
            .iter()
            .map(|p| format!("/bin/{}", p.file_name().unwrap().to_str().unwrap()))
            .collect();
        let refs: Vec<&std::path::Path> = progs.iter().map(|p| p.as_path()).collect();
        (bake_programs(&refs, "exec_test", &[]), names)
    }

    /// fork + execve of static, static-pie, musl and dynamic programs, `#!` scripts,
    /// posix_spawn, vfork + exec, close-on-exec, signal reset, /proc/self/exe,
    /// execveat and exec's errnos; run by the glibc and by the musl build.
    #[test]
    fn exec_static_pie_dynamic_scripts_spawn_and_errors() {
        let (image, names) = exec_image();
        for first in [&names[0], &names[2]] {
            let rc = format!(
                "{} main {}",
                first.trim_start_matches("/bin/"),
                names.join(" ")
            );
            let run = rumprun_qemu(&image, &["-M", "256", "-r", &rc], &[]);
            run.assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_stdout_line("ALL OK");
        }
    }

    #[track_caller]
    fn fork_test(flavor: Flavor) {
        let run = boot_c("fork_test.c", flavor, &["-M", "256"], &[]);
        run.assert_status(0)
            .assert_output_lacks("FAIL ")
            .assert_output_lacks("rumprun: out of memory")
            .assert_stdout_line("ALL OK");
    }

    /// A child whose copy-on-write faults exhaust memory is killed with a report;
    /// the parent and the kernel go on.
    #[test]
    fn cow_out_of_memory_kills_the_child_only() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            let run = boot_c("fork_test.c", flavor, &["-M", "128"], &["cow-oom"]);
            run.assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_output_contains("rumprun: out of memory")
                .assert_stdout_line("ALL OK");
        }
    }

    /// Memory running out under processes: a child touching memory without end is
    /// killed (SIGKILL status); while another holds nearly all of it, fork, exec,
    /// pipes filled to capacity and mmap give ENOMEM/EAGAIN or work, and all work
    /// again once it is gone; the kernel never panics.
    #[test]
    fn memory_exhaustion_gives_enomem_or_kills_never_panics() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("oom_pressure.c", flavor, &["-M", "64"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_output_lacks("kernel panic")
                .assert_stdout_line("ALL OK");
        }
    }

    /// The kernel's own structures for a process when memory runs out: page tables
    /// of a sparse mapping (the child is killed with a report), fork of a process with
    /// big page tables (ENOMEM), threads and descriptors until they fail with an errno;
    /// afterwards everything works (oom_kernel.c).
    #[test]
    fn kernel_structures_out_of_memory_fail_or_kill_never_end_the_vm() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("oom_kernel.c", flavor, &["-M", "64"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_output_lacks("out of memory in the kernel")
                .assert_stdout_line("ALL OK");
        }
    }

    /// Mappings without end get ENOMEM at Linux's vm.max_map_count (65530) or when
    /// the kernel's memory runs low, fork and a splitting mprotect there too, and
    /// munmap of them all works, in 16 and 64 MiB VMs (many_maps.c). The kernel heap
    /// used to run dry and end the VM.
    #[test]
    fn mappings_without_end_get_enomem_and_the_vm_lives() {
        for (flavor, mem) in [(Flavor::Glibc, "16"), (Flavor::Musl, "64")] {
            boot_c("many_maps.c", flavor, &["-M", mem], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_output_lacks("out of memory in the kernel")
                .assert_stdout_line("ALL OK");
        }
    }

    /// What a program sizes in the kernel, in a 16 MiB VM: /proc/PID/maps of 65000
    /// mappings read whole (by the process and its parent), execve with 25 GiB of
    /// arguments (E2BIG), 16 MiB writev/sendmsg/recvmsg/readv, getdents64 and
    /// epoll_wait into 1 GiB, oversized poll/select/epoll sets (EINVAL), a 1 GiB pipe
    /// filled, sockets with 8 MiB buffers until ENOBUFS; then fork, pipes and malloc
    /// work again, as the kernel heap gave back what it took (big_requests.c). Each
    /// of these once ended the VM ("out of memory in the kernel").
    #[test]
    fn big_requests_get_an_errno_or_work_and_the_vm_lives() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("big_requests.c", flavor, &["-M", "16"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_output_lacks("out of memory in the kernel")
                .assert_stdout_line("ALL OK");
        }
    }

    /// PR_SET_CHILD_SUBREAPER: an orphan goes to the nearest subreaper ancestor (past
    /// one that is none), getppid says so, wait there reaps it and a zombie handed
    /// over with it; the flag is not inherited by fork and stays over execve
    /// (subreaper.c).
    #[test]
    fn orphans_go_to_the_nearest_subreaper() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("subreaper.c", flavor, &["-M", "64"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_stdout_line("ALL OK");
        }
    }

    /// Job control: SIGSTOP/SIGTSTP stop every thread of a child, SIGCONT continues
    /// it, wait4/waitid report WIFSTOPPED/WIFCONTINUED, SIGCHLD carries
    /// CLD_STOPPED/CLD_CONTINUED (not with SA_NOCLDSTOP), /proc says T, a blocked
    /// read survives a stop, SIGKILL ends a stopped child.
    #[test]
    fn stop_and_continue_with_wuntraced_and_wcontinued() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("job_control.c", flavor, &["-M", "128"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_stdout_line("ALL OK");
        }
    }

    /// The console's job control: a background group reading the console stops with
    /// SIGTTIN (EIO when it ignores or blocks it), writing with TOSTOP or setting the
    /// foreground group or termios stops with SIGTTOU; an orphaned group gets EIO and
    /// is not stopped by SIGTSTP, and one orphaned while stopped gets SIGHUP and
    /// SIGCONT (tty_jobs.c).
    #[test]
    fn console_sigttin_sigttou_and_orphaned_groups() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("tty_jobs.c", flavor, &["-M", "128"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_stdout_line("ALL OK");
        }
    }

    /// ETXTBSY: a running program's file cannot be opened for writing or
    /// truncated, a file open for writing (ELF or `#!` script) cannot be exec'd, and
    /// both work again once the writer or the process is gone.
    #[test]
    fn text_file_busy_for_running_and_written_programs() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("textbusy.c", flavor, &["-M", "128"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_stdout_line("ALL OK");
        }
    }

    #[test]
    fn fork_wait_cow_groups_glibc() {
        fork_test(Flavor::Glibc);
    }

    #[test]
    fn fork_wait_cow_groups_musl() {
        fork_test(Flavor::Musl);
    }

    /// A program runs itself again through argv\[0\], /proc/self/exe, PATH and
    /// symbolic links: the first program's argv\[0\] is its path in the guest, and
    /// /proc/self/exe names the file itself.
    #[test]
    fn self_reexec_through_argv0_and_proc_self_exe() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("self_exec.c", flavor, &["-M", "128"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_stdout_line("ALL OK");
        }
    }

    /// FIOASYNC, O_ASYNC and F_SETOWN/F_GETOWN on a socketpair, as nginx's master sets
    /// up its workers' channels (it refused to start workers without them).
    #[test]
    fn async_flag_and_owner_as_nginx_sets_them() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("async_owner.c", flavor, &["-M", "64"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_stdout_line("ALL OK");
        }
    }

    /// fork and fork + exec give their memory back, within a few KiB per round (each
    /// reaped process's record is still kept); exec lost half a MiB per round.
    #[test]
    fn fork_and_exec_give_memory_back() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("exec_memory.c", flavor, &["-M", "256"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_stdout_line("ALL OK");
        }
    }

    /// Shared futexes, process-shared pthread objects and semaphores, SysV shared
    /// memory and semaphores between forked processes.
    #[test]
    fn shared_futex_sysv_shm_and_semaphores() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("proc_ipc.c", flavor, &["-M", "128"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_output_lacks("unsupported syscall")
                .assert_stdout_line("ALL OK");
        }
    }

    /// Advisory file locks between processes: flock (per open file description:
    /// conflicts, sharing, waiting, release on close and on the holder's end) and
    /// POSIX record locks (F_GETLK, F_SETLK, F_SETLKW, splitting, release on any
    /// close, EDEADLK); file_locks.c, which passes on Linux too.
    #[test]
    fn file_locks_between_processes() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("file_locks.c", flavor, &["-M", "64"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_stdout_line("ALL OK");
        }
    }

    /// A file's pages are shared, not copied (the page cache): processes that open
    /// a /dev/shm file themselves see each other's MAP_SHARED writes and a third's
    /// write(2); sem_open between exec'd processes; SIGBUS past the end of a mapped
    /// file (also after truncate); MAP_PRIVATE keeps its writes; fork, mremap, msync
    /// and partial munmap of file mappings.
    #[test]
    fn file_pages_shared_between_exec_d_processes() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("file_pages.c", flavor, &["-M", "128"], &[])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_output_lacks("unsupported syscall")
                .assert_stdout_line("ALL OK");
        }
    }

    /// Debian's busybox (package busybox: dynamically linked) baked with applet links
    /// in /bin and `files` added to the root; boots `busybox sh -c SCRIPT`.
    fn busybox_sh(image: &str, files: &[(&str, &str)], script: &str) -> Run {
        let busybox = std::path::Path::new("/bin/busybox");
        assert!(
            busybox.is_file(),
            "/bin/busybox is missing: install the Debian package busybox"
        );
        let root = scratch_dir(image);
        std::fs::create_dir_all(root.join("bin")).unwrap();
        for applet in [
            "sh", "ls", "sort", "wc", "date", "echo", "cat", "head", "tr", "seq", "grep", "expr",
            "true", "false", "sleep", "uniq", "cut", "rm", "mkdir", "test", "[",
        ] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
        for (path, data) in files {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
        let bake_args = [std::ffi::OsStr::new("-r"), root.as_os_str()];
        let image = bake_programs(&[busybox], image, &bake_args);
        let rc = format!("busybox sh -c '{script}'");
        rumprun_qemu(&image, &["-M", "256", "-r", &rc], &[])
    }

    /// The issue's milestone: a pipeline and a command substitution in busybox sh,
    /// each command a fork + exec of a busybox applet.
    #[test]
    fn busybox_sh_pipeline_and_command_substitution() {
        let run = busybox_sh(
            "busybox-pipeline",
            &[],
            "ls /etc | sort | wc -l; echo $(date +%Y); ls -1 /etc",
        );
        run.assert_status(0);
        let out: Vec<&str> = run
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with("=== calling"))
            .skip(2)
            .take_while(|l| !l.is_empty())
            .collect();
        assert!(out.len() > 3, "too little output:\n{}", run.dump());
        let count: usize = out[0].trim().parse().unwrap_or_else(|_| {
            panic!("want a line count first:\n{}", run.dump());
        });
        let year = Command::new("date").arg("+%Y").output().unwrap();
        assert_eq!(out[1], String::from_utf8_lossy(&year.stdout).trim());
        let listing = &out[2..];
        assert_eq!(count, listing.len(), "{}", run.dump());
        let mut sorted = listing.to_vec();
        sorted.sort();
        assert_eq!(listing, &sorted[..], "ls lists sorted");
        for name in ["passwd", "hosts"] {
            assert!(listing.contains(&name), "no /etc/{name}:\n{}", run.dump());
        }
    }

    /// `kill -STOP` / `kill -CONT` from busybox sh: the background job stops (/proc
    /// says T), continues, and its end by SIGTERM reaches `wait`.
    #[test]
    fn busybox_sh_kill_stop_and_cont() {
        let run = busybox_sh(
            "busybox-stop",
            &[],
            "sleep 30 & p=$!; kill -STOP $p; sleep 0.2; grep State /proc/$p/status; \
             kill -CONT $p; sleep 0.2; grep State /proc/$p/status; kill $p; wait $p; \
             echo status $?",
        );
        run.assert_status(0)
            .assert_stdout_line("State:\tT (stopped)")
            .assert_stdout_line("State:\tR (running)")
            .assert_stdout_line("status 143")
            .assert_order("T (stopped)", "R (running)");
    }

    /// A multi-line script: functions, loops, pipelines, redirections, subshells,
    /// exit statuses, `$?`, here-documents, background jobs and wait.
    #[test]
    fn busybox_sh_script_with_functions_loops_redirections_subshells() {
        let script = r#"set -e
greet() { echo "hello $1"; }
for n in one two three; do greet $n; done | tr a-z A-Z
i=0
while [ $i -lt 3 ]; do i=$((i+1)); done
echo "i=$i"
mkdir -p /tmp/w
seq 1 50 > /tmp/w/nums
sum=0; for n in $(cat /tmp/w/nums); do sum=$((sum+n)); done
echo "sum=$sum lines=$(wc -l < /tmp/w/nums)"
(cd /tmp/w && echo "in $(pwd)"); echo "back in $(pwd)"
x=outer; (x=inner; echo "sub $x"); echo "main $x"
if false; then echo no; else echo "false is $(false || echo $?)"; fi
sh -c "exit 3" || echo "child exit $?"
cat <<END | grep -c line
line a
line b
END
sleep 0.1 & pid=$!; wait $pid; echo "waited $?"
echo done >> /tmp/w/log; echo again >> /tmp/w/log; cat /tmp/w/log | uniq | wc -l
"#;
        let run = busybox_sh(
            "busybox-script",
            &[("etc/script.sh", script)],
            "sh /etc/script.sh",
        );
        run.assert_status(0).assert_output_lacks("not found");
        for line in [
            "HELLO ONE",
            "HELLO TWO",
            "HELLO THREE",
            "i=3",
            "sum=1275 lines=50",
            "in /tmp/w",
            "back in /",
            "sub inner",
            "main outer",
            "false is 1",
            "child exit 3",
            "2",
            "waited 0",
        ] {
            run.assert_stdout_line(line);
        }
        run.assert_order("HELLO THREE", "i=3")
            .assert_order("main outer", "child exit 3");
    }
}
