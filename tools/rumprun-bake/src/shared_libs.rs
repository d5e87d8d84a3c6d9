//! The host files a dynamically linked program needs at run time: its interpreter
//! (`PT_INTERP`) and the transitive closure of its `DT_NEEDED` libraries, found on the
//! host the way the dynamic loader searches, and the paths they get in the image's root
//! file system so that the loader finds them there by default.
//!
//! Search order for each needed library (as `ld.so`): the needing object's `DT_RPATH`
//! (only if it has no `DT_RUNPATH`), the `-L` directories, its `DT_RUNPATH`, then
//! [`DEFAULT_DIRS`]. `$ORIGIN` expands to the needing object's directory. A candidate
//! that is not an x86_64 ELF64 shared object (say a 32-bit library) is skipped. A
//! library that is the interpreter itself (musl's `libc.so`, glibc's
//! `ld-linux-x86-64.so.2` needed by `libc.so.6`) is not added again.
//!
//! In the image a library keeps its host directory if the program's loader searches
//! that directory by default; one found anywhere else (`-L`, RPATH/RUNPATH, `$ORIGIN`,
//! `/usr/local/lib` for glibc) goes to the loader's own library directory
//! (`/usr/lib/x86_64-linux-gnu` for glibc, `/usr/lib` for musl). The image has no
//! `ld.so.cache` and no musl path file, so only these default directories count.

use crate::elf::{DynamicInfo, Elf, ET_DYN};
use rumprun_bake::rootfs::io_msg;
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};

/// Where libraries are searched on the host after RPATH, `-L` and RUNPATH, in order.
pub const DEFAULT_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/usr/lib/x86_64-linux-musl",
    "/usr/local/lib",
];

/// The dynamic loader a program names as its interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loader {
    Glibc,
    Musl,
}

impl Loader {
    fn of(interpreter: &str) -> Loader {
        let file = interpreter.rsplit('/').next().unwrap_or(interpreter);
        if file.starts_with("ld-musl-") {
            Loader::Musl
        } else {
            Loader::Glibc
        }
    }

    /// The directories the loader searches without a cache or config file
    /// (glibc: Debian/Ubuntu multiarch and Fedora lib64 layouts).
    fn default_search(self) -> &'static [&'static str] {
        match self {
            Loader::Glibc => &[
                "/lib/x86_64-linux-gnu",
                "/usr/lib/x86_64-linux-gnu",
                "/lib",
                "/usr/lib",
                "/lib64",
                "/usr/lib64",
            ],
            Loader::Musl => &["/lib", "/usr/local/lib", "/usr/lib"],
        }
    }

    /// Where a library found outside [`Loader::default_search`] goes in the image.
    fn library_dir(self) -> &'static str {
        match self {
            Loader::Glibc => "/usr/lib/x86_64-linux-gnu",
            Loader::Musl => "/usr/lib",
        }
    }

    /// The image directory for libraries found in the host directory `dir`, written as
    /// an absolute path in image terms (`None` for `$ORIGIN` and relative directories).
    fn image_dir(self, dir: Option<&str>) -> String {
        let dir = dir.map(|d| d.trim_end_matches('/'));
        match dir {
            Some(d) if self.default_search().contains(&d) => d.to_string(),
            _ => self.library_dir().to_string(),
        }
    }
}

/// Where to look on the host.
pub struct HostLibs<'a> {
    /// Prefix for the interpreter path, absolute RPATH/RUNPATH entries and
    /// [`DEFAULT_DIRS`]: `/` for the host itself (tests point it at a directory).
    pub sysroot: &'a Path,
    /// The `-L` directories, used as given.
    pub extra_dirs: &'a [PathBuf],
    /// `-l NAME`: libraries to add as if every program needed them (for dlopen).
    pub extra_libs: &'a [String],
}

/// One file to add to the image's root file system.
#[derive(Debug)]
pub struct RuntimeFile {
    /// Path in the image, relative to `/` (`lib/x86_64-linux-gnu/libc.so.6`).
    pub image_path: String,
    /// Where it was found on the host (the contents are the file's, symlinks followed).
    pub host_path: PathBuf,
    pub data: Vec<u8>,
    /// `interpreter` or `library`, for messages.
    pub kind: &'static str,
}

/// One directory to search and where what it provides goes in the image.
struct SearchDir {
    host: PathBuf,
    image_dir: String,
}

/// A loaded object whose needed libraries are still to be resolved.
struct Needing {
    /// The name errors use: the program's file name or the library's `DT_NEEDED` name.
    name: String,
    host_path: PathBuf,
    info: DynamicInfo,
}

impl HostLibs<'_> {
    /// The host path of the absolute path `path` (as written in an ELF file).
    fn host_path(&self, path: &str) -> PathBuf {
        self.sysroot.join(path.trim_start_matches('/'))
    }

    /// The directories of the colon-separated `list` (RPATH/RUNPATH of `obj`).
    fn expand(&self, list: &str, obj: &Needing, loader: Loader) -> Vec<SearchDir> {
        let origin = obj
            .host_path
            .parent()
            .map_or_else(|| ".".to_string(), |p| p.display().to_string());
        list.split(':')
            .filter(|d| !d.is_empty())
            .map(|d| {
                if d.contains("$ORIGIN") || d.contains("${ORIGIN}") {
                    let host = d.replace("${ORIGIN}", &origin).replace("$ORIGIN", &origin);
                    SearchDir {
                        host: PathBuf::from(host),
                        image_dir: loader.image_dir(None),
                    }
                } else if d.starts_with('/') {
                    SearchDir {
                        host: self.host_path(d),
                        image_dir: loader.image_dir(Some(d)),
                    }
                } else {
                    SearchDir {
                        host: PathBuf::from(d),
                        image_dir: loader.image_dir(None),
                    }
                }
            })
            .collect()
    }

    /// The search directories for the libraries `obj` needs, in order.
    fn search_dirs(&self, obj: &Needing, loader: Loader) -> Vec<SearchDir> {
        let mut dirs = Vec::new();
        if obj.info.runpath.is_none() {
            if let Some(rpath) = &obj.info.rpath {
                dirs.extend(self.expand(rpath, obj, loader));
            }
        }
        dirs.extend(self.extra_dirs.iter().map(|d| SearchDir {
            host: d.clone(),
            image_dir: loader.image_dir(d.to_str().filter(|s| s.starts_with('/'))),
        }));
        if let Some(runpath) = &obj.info.runpath {
            dirs.extend(self.expand(runpath, obj, loader));
        }
        dirs.extend(DEFAULT_DIRS.iter().map(|d| SearchDir {
            host: self.host_path(d),
            image_dir: loader.image_dir(Some(d)),
        }));
        dirs
    }
}

/// The bytes and canonical path of `path` if it is an x86_64 ELF64 shared object;
/// `None` (keep searching, as `ld.so` does) if it is missing, unreadable or another
/// kind of file.
fn shared_object(path: &Path) -> Option<(Vec<u8>, PathBuf)> {
    let data = std::fs::read(path).ok()?;
    let elf = Elf::parse(&data).ok()?;
    if elf.e_type != ET_DYN {
        return None;
    }
    let canonical = std::fs::canonicalize(path).ok()?;
    Some((data, canonical))
}

/// The interpreter and every library the dynamically linked `elf` (the program `name`,
/// as the user named it, read from `program_path`) loads, interpreter first. Errors are
/// one line starting with `name`.
pub fn runtime_files(
    name: &str,
    program_path: &Path,
    elf: &Elf,
    interpreter: &str,
    host: &HostLibs,
) -> Result<Vec<RuntimeFile>, String> {
    if !interpreter.starts_with('/') {
        return Err(format!(
            "{name}: the interpreter {interpreter} is not an absolute path"
        ));
    }
    let loader = Loader::of(interpreter);
    let interp_host = host.host_path(interpreter);
    let interp_data = std::fs::read(&interp_host).map_err(|e| {
        format!(
            "{name}: needs the interpreter {interpreter}, not found on this host ({}: {})",
            interp_host.display(),
            io_msg(&e)
        )
    })?;
    Elf::parse(&interp_data).map_err(|e| format!("{name}: interpreter {interpreter}: {e}"))?;
    let interp_canonical = std::fs::canonicalize(&interp_host)
        .map_err(|e| format!("{}: {}", interp_host.display(), io_msg(&e)))?;
    let mut files = vec![RuntimeFile {
        image_path: interpreter.trim_start_matches('/').to_string(),
        host_path: interp_host,
        data: interp_data,
        kind: "interpreter",
    }];

    let file_name = program_path.file_name().map(|f| f.to_string_lossy());
    let mut info = elf
        .dynamic_info()
        .map_err(|e| format!("{}: {e}", program_path.display()))?;
    info.needed.extend(host.extra_libs.iter().cloned());
    let program = Needing {
        name: file_name.map_or_else(|| name.to_string(), |f| f.into_owned()),
        host_path: program_path.to_path_buf(),
        info,
    };
    let mut resolver = Resolver {
        host,
        loader,
        interp_canonical,
        resolved: HashSet::new(),
    };
    let libs = resolver.closure(name, program, &|_| false)?;
    files.extend(libs);
    Ok(files)
}

/// Finds on the host, transitively, the libraries that objects need.
struct Resolver<'a, 'b> {
    host: &'a HostLibs<'b>,
    loader: Loader,
    /// The interpreter's canonical host path: a library that is the interpreter is
    /// not added again.
    interp_canonical: PathBuf,
    /// `DT_NEEDED` names already handled.
    resolved: HashSet<String>,
}

impl Resolver<'_, '_> {
    /// The libraries `first` needs, transitively, except those `present` says are in
    /// the image already. Errors are one line starting with `name`.
    fn closure(
        &mut self,
        name: &str,
        first: Needing,
        present: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<RuntimeFile>, String> {
        let mut files = Vec::new();
        let mut queue = VecDeque::from([first]);
        while let Some(obj) = queue.pop_front() {
            for lib in &obj.info.needed {
                if !self.resolved.insert(lib.clone()) || present(lib) {
                    continue;
                }
                if lib.contains('/') {
                    return Err(format!(
                        "{name}: needs {lib} (needed by {}): a path, not a library name; link with -l or the library's soname",
                        obj.name
                    ));
                }
                let dirs = self.host.search_dirs(&obj, self.loader);
                let Some((dir, (data, canonical))) = dirs
                    .iter()
                    .find_map(|d| shared_object(&d.host.join(lib)).map(|found| (d, found)))
                else {
                    let searched: Vec<String> =
                        dirs.iter().map(|d| d.host.display().to_string()).collect();
                    return Err(format!(
                        "{name}: needs {lib} (needed by {}), not found in: {}",
                        obj.name,
                        searched.join(" ")
                    ));
                };
                if canonical == self.interp_canonical {
                    continue;
                }
                let host_path = dir.host.join(lib);
                let info = Elf::parse(&data)
                    .and_then(|e| e.dynamic_info())
                    .map_err(|e| format!("{}: {e}", host_path.display()))?;
                files.push(RuntimeFile {
                    image_path: format!("{}/{lib}", dir.image_dir.trim_start_matches('/')),
                    host_path: host_path.clone(),
                    data,
                    kind: "library",
                });
                queue.push_back(Needing {
                    name: lib.clone(),
                    host_path,
                    info,
                });
            }
        }
        Ok(files)
    }
}

/// One shared object already in the image (an extension module, a plugin, a library
/// from a Debian package or a `-r` tree) whose needed libraries must be there too.
pub struct ImageObject<'a> {
    /// Its path in the image, relative to `/`; `$ORIGIN` in its RPATH/RUNPATH is taken
    /// as this path's directory on the host (the same for files from Debian packages).
    pub image_path: &'a str,
    pub data: &'a [u8],
}

/// The libraries the shared objects `objects` need, transitively, that are neither in
/// the image already (`present(path)`, `path` relative to `/`, in one of the loader's
/// default directories) nor the interpreter: found on the host like a program's,
/// for the loader named `interpreter`. A library that cannot be found is not an error
/// (loading that object will fail in the image as it would on a host without the
/// library): it is returned as a warning line.
pub fn closure_of_objects(
    objects: &[ImageObject],
    interpreter: &str,
    host: &HostLibs,
    present: &dyn Fn(&str) -> bool,
) -> Result<(Vec<RuntimeFile>, Vec<String>), String> {
    let loader = Loader::of(interpreter);
    let interp_canonical = std::fs::canonicalize(host.host_path(interpreter))
        .unwrap_or_else(|_| host.host_path(interpreter));
    let in_image = |lib: &str| {
        loader
            .default_search()
            .iter()
            .any(|d| present(&format!("{}/{lib}", d.trim_start_matches('/'))))
    };
    let mut resolver = Resolver {
        host,
        loader,
        interp_canonical,
        resolved: HashSet::new(),
    };
    let mut files: Vec<RuntimeFile> = Vec::new();
    let mut warnings = Vec::new();
    for obj in objects {
        let Ok(info) = Elf::parse(obj.data).and_then(|e| e.dynamic_info()) else {
            continue;
        };
        let name = obj.image_path.to_string();
        let needing = Needing {
            name: name.clone(),
            host_path: Path::new("/").join(obj.image_path),
            info,
        };
        let added = |lib: &str| {
            in_image(lib)
                || files
                    .iter()
                    .any(|f| f.image_path.rsplit('/').next() == Some(lib))
        };
        match resolver.closure(&format!("/{name}"), needing, &added) {
            Ok(more) => files.extend(more),
            Err(e) => warnings.push(format!("{e} (loading it will fail)")),
        }
    }
    Ok((files, warnings))
}

/// Whether `data` is a shared object whose needs bake must follow: an x86_64 ELF
/// `ET_DYN` file that is a library or a module (no `PT_INTERP`, or `.so` in its file
/// name, like `libc.so.6` which also runs as a program). Position-independent
/// programs that come with a package are not followed: they cannot be started in the
/// image (no exec).
pub fn is_shared_object(image_path: &str, data: &[u8]) -> bool {
    let Ok(elf) = Elf::parse(data) else {
        return false;
    };
    if elf.e_type != ET_DYN {
        return false;
    }
    let file = image_path.rsplit('/').next().unwrap_or(image_path);
    file.contains(".so") || matches!(elf.interpreter(), Ok(None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::testing::{fake_dynamic_elf, fake_elf, FakeDynamic};
    use crate::elf::{EM_X86_64, ET_EXEC};
    use std::fs;

    /// A fresh, empty directory for one test.
    fn sysroot(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "rumprun-bake-shared-libs-{}-{test}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write(root: &Path, path: &str, data: &[u8]) -> PathBuf {
        let p = root.join(path.trim_start_matches('/'));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        p
    }

    fn lib(needed: &[&str], runpath: Option<&str>) -> Vec<u8> {
        fake_dynamic_elf(
            ET_DYN,
            &FakeDynamic {
                needed,
                runpath,
                ..Default::default()
            },
        )
    }

    const GLIBC_LD: &str = "/lib64/ld-linux-x86-64.so.2";

    /// Resolves the program at `prog` (inside `root`) and returns the image paths.
    fn resolve(root: &Path, prog: &Path, extra: &[PathBuf]) -> Result<Vec<String>, String> {
        let data = fs::read(prog).unwrap();
        let elf = Elf::parse(&data).unwrap();
        let interp = match elf.check_program().unwrap() {
            crate::elf::Linking::Dynamic { interpreter } => interpreter,
            other => panic!("not dynamic: {other:?}"),
        };
        let host = HostLibs {
            sysroot: root,
            extra_dirs: extra,
            extra_libs: &[],
        };
        let files = runtime_files("bin/prog", prog, &elf, &interp, &host)?;
        for f in &files {
            assert_eq!(f.data, fs::read(&f.host_path).unwrap(), "{f:?}");
        }
        Ok(files.into_iter().map(|f| f.image_path).collect())
    }

    fn program(root: &Path, d: FakeDynamic) -> PathBuf {
        write(root, "/home/u/bin/prog", &fake_dynamic_elf(ET_EXEC, &d))
    }

    #[test]
    fn glibc_program_from_the_default_dirs() {
        let root = sysroot("glibc");
        write(&root, GLIBC_LD, &lib(&[], None));
        write(
            &root,
            "/lib/x86_64-linux-gnu/libc.so.6",
            &lib(&["ld-linux-x86-64.so.2"], None),
        );
        // The interpreter again, under the name libc.so.6 needs: not added twice.
        std::os::unix::fs::symlink(
            "../../lib64/ld-linux-x86-64.so.2",
            root.join("lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
        )
        .unwrap();
        write(
            &root,
            "/usr/lib/x86_64-linux-gnu/libm.so.6",
            &lib(&["libc.so.6"], None),
        );
        // In a default dir the image's loader does not search: moved.
        write(&root, "/usr/local/lib/libextra.so", &lib(&[], None));
        let prog = program(
            &root,
            FakeDynamic {
                interpreter: Some(GLIBC_LD),
                needed: &["libm.so.6", "libc.so.6", "libextra.so"],
                ..Default::default()
            },
        );
        assert_eq!(
            resolve(&root, &prog, &[]).unwrap(),
            [
                "lib64/ld-linux-x86-64.so.2",
                "usr/lib/x86_64-linux-gnu/libm.so.6",
                "lib/x86_64-linux-gnu/libc.so.6",
                "usr/lib/x86_64-linux-gnu/libextra.so",
            ]
        );
    }

    #[test]
    fn runpath_with_origin_and_extra_dirs() {
        let root = sysroot("runpath");
        write(&root, GLIBC_LD, &lib(&[], None));
        write(&root, "/lib/x86_64-linux-gnu/libc.so.6", &lib(&[], None));
        // libapp.so next to the program's ../lib, itself needing libhelper.so from -L.
        write(
            &root,
            "/home/u/lib/libapp.so",
            &lib(&["libhelper.so", "libc.so.6"], None),
        );
        let extra = root.join("opt/helpers");
        write(&extra, "libhelper.so", &lib(&[], None));
        let prog = program(
            &root,
            FakeDynamic {
                interpreter: Some(GLIBC_LD),
                needed: &["libapp.so"],
                runpath: Some("$ORIGIN/../lib"),
                ..Default::default()
            },
        );
        assert_eq!(
            resolve(&root, &prog, std::slice::from_ref(&extra)).unwrap(),
            [
                "lib64/ld-linux-x86-64.so.2",
                "usr/lib/x86_64-linux-gnu/libapp.so",
                "usr/lib/x86_64-linux-gnu/libhelper.so",
                "lib/x86_64-linux-gnu/libc.so.6",
            ]
        );
        // An -L dir comes before RUNPATH: a libapp.so there wins.
        let extra_app = write(&extra, "libapp.so", &lib(&[], None));
        let files = resolve(&root, &prog, std::slice::from_ref(&extra)).unwrap();
        assert_eq!(files[1], "usr/lib/x86_64-linux-gnu/libapp.so");
        assert_eq!(files.len(), 2, "{files:?}");
        fs::remove_file(extra_app).unwrap();
        // RPATH is ignored when there is a RUNPATH, and used before -L without one.
        write(&root, "/srv/rp/libapp.so", &lib(&[], None));
        let both = program(
            &root,
            FakeDynamic {
                interpreter: Some(GLIBC_LD),
                needed: &["libapp.so"],
                rpath: Some("/srv/rp"),
                runpath: Some("$ORIGIN/../lib"),
            },
        );
        let files = resolve(&root, &both, std::slice::from_ref(&extra)).unwrap();
        assert_eq!(
            files.len(),
            4,
            "RUNPATH's libapp.so (with its needs): {files:?}"
        );
        let rpath_only = program(
            &root,
            FakeDynamic {
                interpreter: Some(GLIBC_LD),
                needed: &["libapp.so"],
                rpath: Some("/srv/rp/"),
                ..Default::default()
            },
        );
        let files = resolve(&root, &rpath_only, std::slice::from_ref(&extra)).unwrap();
        assert_eq!(
            files.len(),
            2,
            "RPATH's libapp.so (needs nothing): {files:?}"
        );
    }

    #[test]
    fn incompatible_candidates_are_skipped() {
        let root = sysroot("skip");
        write(&root, GLIBC_LD, &lib(&[], None));
        // A 32-bit libz and a text file under the name in earlier dirs, the real one later.
        let mut i386 = lib(&[], None);
        i386[4] = 1;
        write(&root, "/lib/x86_64-linux-gnu/libz.so.1", &i386);
        write(
            &root,
            "/usr/lib/x86_64-linux-gnu/libz.so.1",
            b"INPUT(-lz)\n",
        );
        write(
            &root,
            "/lib64/libz.so.1",
            &fake_elf(ET_EXEC, EM_X86_64, &[], &[]),
        );
        write(&root, "/usr/lib/libz.so.1", &lib(&[], None));
        let prog = program(
            &root,
            FakeDynamic {
                interpreter: Some(GLIBC_LD),
                needed: &["libz.so.1"],
                ..Default::default()
            },
        );
        assert_eq!(
            resolve(&root, &prog, &[]).unwrap(),
            ["lib64/ld-linux-x86-64.so.2", "usr/lib/libz.so.1"]
        );
    }

    #[test]
    fn missing_library_is_one_clear_error() {
        let root = sysroot("missing");
        write(&root, GLIBC_LD, &lib(&[], None));
        write(
            &root,
            "/usr/lib/x86_64-linux-gnu/libbar.so",
            &lib(&["libfoo.so.1"], Some("/opt/foo")),
        );
        let prog = program(
            &root,
            FakeDynamic {
                interpreter: Some(GLIBC_LD),
                needed: &["libbar.so"],
                ..Default::default()
            },
        );
        let err = resolve(&root, &prog, &[PathBuf::from("/nonexistent-L")]).unwrap_err();
        let r = root.display();
        assert_eq!(
            err,
            format!(
                "bin/prog: needs libfoo.so.1 (needed by libbar.so), not found in: /nonexistent-L {r}/opt/foo {}",
                DEFAULT_DIRS
                    .iter()
                    .map(|d| format!("{r}{d}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn missing_direct_need_names_the_program() {
        let root = sysroot("missing-direct");
        write(&root, GLIBC_LD, &lib(&[], None));
        let prog = program(
            &root,
            FakeDynamic {
                interpreter: Some(GLIBC_LD),
                needed: &["libnope.so"],
                ..Default::default()
            },
        );
        let err = resolve(&root, &prog, &[]).unwrap_err();
        assert!(
            err.starts_with("bin/prog: needs libnope.so (needed by prog), not found in: "),
            "{err}"
        );
    }

    #[test]
    fn missing_interpreter_is_one_clear_error() {
        let root = sysroot("no-interp");
        let prog = program(
            &root,
            FakeDynamic {
                interpreter: Some("/lib/ld-musl-x86_64.so.1"),
                ..Default::default()
            },
        );
        let err = resolve(&root, &prog, &[]).unwrap_err();
        assert!(
            err.starts_with(
                "bin/prog: needs the interpreter /lib/ld-musl-x86_64.so.1, not found on this host ("
            ),
            "{err}"
        );
        let relative = program(
            &root,
            FakeDynamic {
                interpreter: Some("ld.so"),
                ..Default::default()
            },
        );
        assert!(resolve(&root, &relative, &[])
            .unwrap_err()
            .contains("not an absolute path"));
    }

    #[test]
    fn cycles_end() {
        let root = sysroot("cycle");
        write(&root, GLIBC_LD, &lib(&[], None));
        write(&root, "/lib/liba.so", &lib(&["libb.so"], None));
        write(&root, "/lib/libb.so", &lib(&["liba.so", "libb.so"], None));
        let prog = program(
            &root,
            FakeDynamic {
                interpreter: Some(GLIBC_LD),
                needed: &["liba.so"],
                ..Default::default()
            },
        );
        assert_eq!(
            resolve(&root, &prog, &[]).unwrap(),
            ["lib64/ld-linux-x86-64.so.2", "lib/liba.so", "lib/libb.so"]
        );
    }

    #[test]
    fn musl_libc_is_the_interpreter() {
        let root = sysroot("musl");
        write(&root, "/usr/lib/x86_64-linux-musl/libc.so", &lib(&[], None));
        fs::create_dir_all(root.join("lib")).unwrap();
        std::os::unix::fs::symlink(
            "../usr/lib/x86_64-linux-musl/libc.so",
            root.join("lib/ld-musl-x86_64.so.1"),
        )
        .unwrap();
        // A musl library in a dir musl's loader does not search goes to /usr/lib.
        write(
            &root,
            "/usr/lib/x86_64-linux-gnu/libgreet.so",
            &lib(&["libc.so"], None),
        );
        let prog = program(
            &root,
            FakeDynamic {
                interpreter: Some("/lib/ld-musl-x86_64.so.1"),
                needed: &["libgreet.so", "libc.so"],
                ..Default::default()
            },
        );
        assert_eq!(
            resolve(&root, &prog, &[]).unwrap(),
            ["lib/ld-musl-x86_64.so.1", "usr/lib/libgreet.so"]
        );
    }
}
