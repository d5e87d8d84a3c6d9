//! Files of Debian packages installed on the host (`-D`/`--debs`, `-d PKG`/`--deb PKG`):
//! which packages own the programs and their libraries (`dpkg-query -S`), which files a
//! package installed (`dpkg-query -L`, dpkg's own file lists), and the root file system
//! entries for them, without the documentation nobody reads inside an image
//! ([`SKIPPED_DIRS`]).
//!
//! Only what dpkg lists is added: files a package's maintainer scripts create at install
//! time (nginx's `/etc/nginx/sites-enabled/default` link, `/var/www/html`, compiled
//! Python bytecode) are not in the lists; bake them with `-r`. A file that is already in
//! the image (a program, a library bake found, a `-r` tree or an archive) is kept: files
//! of packages never replace files given otherwise.

use rumprun_bake::rootfs::{io_msg, FsEntry};
use rumprun_image::cpio::{Owner, S_IFDIR, S_IFLNK, S_IFREG};
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

/// Directories whose contents are left out: documentation, manual and info pages,
/// translations of messages, and packaging metadata.
pub const SKIPPED_DIRS: &[&str] = &[
    "/usr/share/doc",
    "/usr/share/doc-base",
    "/usr/share/man",
    "/usr/share/info",
    "/usr/share/locale",
    "/usr/share/lintian",
    "/usr/share/bug",
    "/usr/share/bash-completion",
    "/usr/share/zsh",
    "/usr/share/fish",
    "/usr/share/apport",
    "/usr/share/vim",
    "/usr/share/menu",
    "/usr/share/applications",
    "/usr/share/icons",
    "/usr/share/pixmaps",
];

/// Whether the listed `path` is left out (it is in or is one of [`SKIPPED_DIRS`]).
pub fn skipped(path: &str) -> bool {
    SKIPPED_DIRS.iter().any(|d| {
        path == *d
            || path
                .strip_prefix(d)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The names under which dpkg may know the host file `path` on a merged-/usr system
/// (Debian 12 lists `/lib/x86_64-linux-gnu/libc.so.6` while `/lib` is a link to
/// `/usr/lib`): the path itself, then its twin with or without `/usr`.
pub fn dpkg_names(path: &str) -> Vec<String> {
    let mut names = vec![path.to_string()];
    for top in ["/lib", "/lib64", "/bin", "/sbin", "/libx32", "/lib32"] {
        let usr = format!("/usr{top}");
        if let Some(rest) = path.strip_prefix(&usr).filter(|r| r.starts_with('/')) {
            names.push(format!("{top}{rest}"));
        } else if let Some(rest) = path.strip_prefix(top).filter(|r| r.starts_with('/')) {
            names.push(format!("{usr}{rest}"));
        }
    }
    names
}

/// Parses `dpkg-query -S` output: `pkg[, pkg...]: /path` lines, into (packages, path).
/// Diversion lines (`diversion by PKG from: /path`) are not ownership and are skipped.
pub fn parse_search(text: &str) -> Vec<(Vec<String>, String)> {
    text.lines()
        .filter(|l| !l.starts_with("diversion by "))
        .filter_map(|l| {
            let (pkgs, path) = l.split_once(": ")?;
            path.starts_with('/').then(|| {
                let pkgs = pkgs
                    .split(", ")
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect();
                (pkgs, path.to_string())
            })
        })
        .collect()
}

/// Parses `dpkg-query -L` output: one absolute path a line (diversion notes and blank
/// lines skipped), `/.` dropped.
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with('/') && *l != "/.")
        .map(|l| l.trim_end_matches('/').to_string())
        .collect()
}

fn dpkg_query(args: &[&str]) -> Result<std::process::Output, String> {
    Command::new("dpkg-query")
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| {
            format!(
                "dpkg-query: {} (the Debian package options need dpkg, on a Debian system)",
                io_msg(&e)
            )
        })
}

/// The packages that own the host files `paths` (in order, without repeats), and the
/// paths no package owns.
pub fn owners(paths: &[String]) -> Result<(Vec<String>, Vec<String>), String> {
    let mut queries: Vec<String> = Vec::new();
    for p in paths {
        queries.extend(dpkg_names(p));
        if let Ok(c) = fs::canonicalize(p) {
            queries.extend(dpkg_names(&c.display().to_string()));
        }
    }
    let mut args = vec!["-S"];
    args.extend(queries.iter().map(String::as_str));
    // Exit status 1 only says that some name had no owner.
    let out = dpkg_query(&args)?;
    let found = parse_search(&String::from_utf8_lossy(&out.stdout));
    let mut packages: Vec<String> = Vec::new();
    let mut unowned = Vec::new();
    for p in paths {
        let mut names = dpkg_names(p);
        if let Ok(c) = fs::canonicalize(p) {
            names.extend(dpkg_names(&c.display().to_string()));
        }
        let pkgs: Vec<&String> = found
            .iter()
            .filter(|(_, path)| names.contains(path))
            .flat_map(|(pkgs, _)| pkgs)
            .collect();
        if pkgs.is_empty() {
            unowned.push(p.clone());
        }
        for pkg in pkgs {
            if !packages.contains(pkg) {
                packages.push(pkg.clone());
            }
        }
    }
    Ok((packages, unowned))
}

/// Checks that every package in `packages` is installed: an error naming the first
/// that is not.
pub fn check_installed(packages: &[String]) -> Result<(), String> {
    for pkg in packages {
        let out = dpkg_query(&["-W", "-f=${db:Status-Status}", pkg])?;
        if String::from_utf8_lossy(&out.stdout).trim() != "installed" {
            return Err(format!(
                "--deb {pkg}: the Debian package {pkg} is not installed on this host (apt-get install {pkg})"
            ));
        }
    }
    Ok(())
}

/// The paths dpkg lists for `packages`, sorted, without the [`skipped`] ones.
pub fn listed_files(packages: &[String]) -> Result<Vec<String>, String> {
    let mut all = BTreeSet::new();
    for pkg in packages {
        let out = dpkg_query(&["-L", pkg])?;
        if !out.status.success() {
            return Err(format!(
                "the Debian package {pkg}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        all.extend(
            parse_list(&String::from_utf8_lossy(&out.stdout))
                .into_iter()
                .filter(|p| !skipped(p)),
        );
    }
    Ok(all.into_iter().collect())
}

/// The root file system entries for the host paths `paths` (as [`listed_files`] gives
/// them), read from `sysroot` (`/` for the host): regular files with their contents,
/// symbolic links as links, directories (also where the host has a link to a
/// directory, as merged /usr's `/lib`). Paths missing on the host are skipped (a
/// conffile the admin deleted); one that cannot be read is an error.
pub fn entries(sysroot: &Path, paths: &[String], source: &str) -> Result<Vec<FsEntry>, String> {
    let mut out = Vec::new();
    for p in paths {
        let host = sysroot.join(p.trim_start_matches('/'));
        let lmeta = match fs::symlink_metadata(&host) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {}", host.display(), io_msg(&e))),
        };
        let path = p.trim_start_matches('/').to_string();
        if path.is_empty() {
            continue;
        }
        let owner = Owner {
            uid: 0,
            gid: 0,
            mtime: lmeta.mtime().clamp(0, u32::MAX as i64) as u32,
        };
        let what = host.display().to_string();
        let (mode, data) = if lmeta.file_type().is_symlink() {
            if fs::metadata(&host).is_ok_and(|m| m.is_dir()) {
                (S_IFDIR | 0o755, Vec::new())
            } else {
                let target = fs::read_link(&host).map_err(|e| format!("{what}: {}", io_msg(&e)))?;
                let target = target
                    .to_str()
                    .ok_or_else(|| format!("{what}: the symbolic link's target is not UTF-8"))?;
                (S_IFLNK | 0o777, target.as_bytes().to_vec())
            }
        } else if lmeta.is_dir() {
            (S_IFDIR | (lmeta.mode() & 0o7777), Vec::new())
        } else if lmeta.is_file() {
            let data = fs::read(&host).map_err(|e| format!("{what}: {}", io_msg(&e)))?;
            (S_IFREG | (lmeta.mode() & 0o7777), data)
        } else {
            continue; // devices, FIFOs: never in a package's file list in practice
        };
        out.push(FsEntry {
            path,
            mode,
            owner,
            data,
            source: source.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_documentation_only() {
        assert!(skipped("/usr/share/doc"));
        assert!(skipped("/usr/share/doc/nginx/copyright"));
        assert!(skipped("/usr/share/man/man8/nginx.8.gz"));
        assert!(skipped("/usr/share/locale/de/LC_MESSAGES/x.mo"));
        assert!(!skipped("/usr/share/docs-not-really/x"));
        assert!(!skipped("/usr/share/zoneinfo/UTC"));
        assert!(!skipped("/usr/share/nginx/html/index.html"));
        assert!(!skipped("/usr/share"));
    }

    #[test]
    fn merged_usr_twins() {
        assert_eq!(
            dpkg_names("/usr/lib/x86_64-linux-gnu/libc.so.6"),
            [
                "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "/lib/x86_64-linux-gnu/libc.so.6"
            ]
        );
        assert_eq!(
            dpkg_names("/lib64/ld-linux-x86-64.so.2"),
            [
                "/lib64/ld-linux-x86-64.so.2",
                "/usr/lib64/ld-linux-x86-64.so.2"
            ]
        );
        assert_eq!(dpkg_names("/bin/ls"), ["/bin/ls", "/usr/bin/ls"]);
        // /lib64 is not /lib followed by "64...".
        assert_eq!(dpkg_names("/lib64x/a"), ["/lib64x/a"]);
        assert_eq!(
            dpkg_names("/etc/nginx/nginx.conf"),
            ["/etc/nginx/nginx.conf"]
        );
    }

    #[test]
    fn search_output() {
        let text = "nginx-core: /usr/sbin/nginx\n\
                    diversion by dash from: /bin/sh\n\
                    libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6\n\
                    libgcc-s1:amd64, gcc-12-base: /usr/lib/x\n\
                    dpkg-query: no path found matching pattern /nope\n";
        assert_eq!(
            parse_search(text),
            [
                (
                    vec!["nginx-core".to_string()],
                    "/usr/sbin/nginx".to_string()
                ),
                (
                    vec!["libc6:amd64".to_string()],
                    "/lib/x86_64-linux-gnu/libc.so.6".to_string()
                ),
                (
                    vec!["libgcc-s1:amd64".to_string(), "gcc-12-base".to_string()],
                    "/usr/lib/x".to_string()
                ),
            ]
        );
    }

    #[test]
    fn list_output() {
        let text = "/.\n/etc\n/etc/nginx/nginx.conf\n\npackage diverts others to: /x.real\n/usr/sbin/nginx\n";
        assert_eq!(
            parse_list(text),
            ["/etc", "/etc/nginx/nginx.conf", "/usr/sbin/nginx"]
        );
    }

    #[test]
    fn entries_from_a_tree() {
        let root = std::env::temp_dir().join(format!("rumprun-bake-debs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("usr/lib/x")).unwrap();
        fs::write(root.join("usr/lib/x/a.so"), b"AAA").unwrap();
        std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
        std::os::unix::fs::symlink("a.so", root.join("usr/lib/x/a.so.1")).unwrap();
        let paths: Vec<String> = [
            "/lib",
            "/usr/lib/x",
            "/usr/lib/x/a.so",
            "/usr/lib/x/a.so.1",
            "/gone",
        ]
        .map(String::from)
        .into();
        let e = entries(&root, &paths, "the Debian package t").unwrap();
        let got: Vec<(&str, u32, &[u8])> = e
            .iter()
            .map(|e| (e.path.as_str(), e.mode & 0o170000, e.data.as_slice()))
            .collect();
        assert_eq!(
            got,
            [
                ("lib", S_IFDIR, &b""[..]),
                ("usr/lib/x", S_IFDIR, b""),
                ("usr/lib/x/a.so", S_IFREG, b"AAA"),
                ("usr/lib/x/a.so.1", S_IFLNK, b"a.so"),
            ]
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
