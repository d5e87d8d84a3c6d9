//! Path resolution: `.`/`..`, slashes, symlinks, ELOOP, length limits, relative walks.

mod common;
use common::*;
use rumprun_vfs::flags::*;
use rumprun_vfs::*;

#[test]
fn dots_and_slashes() {
    let e = Env::new();
    e.mkdir("/a").unwrap();
    e.mkdir("/a/b").unwrap();
    e.write_file("/a/b/f", b"x");
    let f = e.stat("/a/b/f").unwrap();
    for p in [
        "//a///b//f",
        "/a/./b/./f",
        "/a/b/../b/f",
        "/../../a/b/f",
        "/a/../a/b/f",
        "a/b/f",
    ] {
        assert_eq!(e.stat(p).unwrap().ino, f.ino, "{p}");
    }
    assert_eq!(e.stat("/..").unwrap().ino, e.root.stat().ino);
    assert_eq!(e.stat("/").unwrap().ino, e.root.stat().ino);
    assert_eq!(e.stat("///").unwrap().ino, e.root.stat().ino);
    assert_eq!(e.stat("/a/b/").unwrap().ino, e.stat("/a/b").unwrap().ino);
}

#[test]
fn errors_on_the_way() {
    let e = Env::new();
    e.write_file("/f", b"x");
    assert_eq!(e.stat("/nope").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.stat("/nope/x").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.stat("/f/x").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.stat("/f/").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.stat("/f/.").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.stat("/f/..").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.stat("").unwrap_err(), Errno::ENOENT);
}

#[test]
fn relative_to_a_directory_and_not_a_directory() {
    let e = Env::new();
    let d = e.mkdir("/d").unwrap();
    e.write_file("/d/f", b"abc");
    assert_eq!(e.vfs.stat(&d, b"f", true).unwrap().size, 3);
    assert_eq!(e.vfs.stat(&d, b"../d/f", true).unwrap().size, 3);
    assert_eq!(e.vfs.stat(&d, b"/d/f", true).unwrap().size, 3);
    let f = e.lookup("/d/f").unwrap();
    assert_eq!(e.vfs.stat(&f, b"x", true).unwrap_err(), Errno::ENOTDIR);
    // Absolute paths ignore `at`, even if it is not a directory.
    assert!(e.vfs.stat(&f, b"/d", true).is_ok());
}

#[test]
fn name_and_path_limits() {
    let e = Env::new();
    let long = "n".repeat(NAME_MAX);
    e.write_file(&format!("/{long}"), b"");
    let too_long = "n".repeat(NAME_MAX + 1);
    assert_eq!(
        e.create(&format!("/{too_long}")).unwrap_err(),
        Errno::ENAMETOOLONG
    );
    assert_eq!(
        e.stat(&format!("/{too_long}")).unwrap_err(),
        Errno::ENAMETOOLONG
    );
    assert_eq!(
        e.mkdir(&format!("/{too_long}")).unwrap_err(),
        Errno::ENAMETOOLONG
    );
    let path = "/".to_string() + &"./".repeat(2047) + "x";
    assert_eq!(path.len(), 4096);
    assert_eq!(e.stat(&path).unwrap_err(), Errno::ENAMETOOLONG);
    let path = "/".repeat(4094) + "x";
    assert_eq!(path.len(), 4095);
    assert_eq!(e.stat(&path).unwrap_err(), Errno::ENOENT);
    // Symlink targets follow the same limit.
    assert_eq!(
        e.symlink(&"a".repeat(4096), "/l").unwrap_err(),
        Errno::ENAMETOOLONG
    );
    assert_eq!(e.symlink("", "/l").unwrap_err(), Errno::ENOENT);
}

#[test]
fn symlinks_are_followed() {
    let e = Env::new();
    e.mkdir("/d").unwrap();
    e.write_file("/d/f", b"data");
    e.symlink("/d/f", "/abs").unwrap();
    e.symlink("d/f", "/rel").unwrap();
    e.symlink("d", "/dl").unwrap();
    e.symlink("../d/f", "/d/up").unwrap();
    e.symlink("dl", "/chain").unwrap();
    let ino = e.stat("/d/f").unwrap().ino;
    for p in [
        "/abs",
        "/rel",
        "/dl/f",
        "/d/up",
        "/chain/f",
        "/chain/up",
        "/dl/../d/f",
    ] {
        assert_eq!(e.stat(p).unwrap().ino, ino, "{p}");
    }
    assert_eq!(e.lstat("/abs").unwrap().file_type(), FileType::Symlink);
    assert_eq!(e.lstat("/abs").unwrap().size, 4);
    assert_eq!(e.lstat("/abs").unwrap().mode & 0o7777, 0o777);
    assert_eq!(
        e.lstat("/dl/").unwrap().file_type(),
        FileType::Directory,
        "trailing slash follows"
    );
    assert_eq!(e.stat("/abs/").unwrap_err(), Errno::ENOTDIR);
    e.symlink("/nowhere", "/dangling").unwrap();
    assert_eq!(e.stat("/dangling").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.lstat("/dangling").unwrap().file_type(), FileType::Symlink);
    assert_eq!(e.read_file("/dl/f").unwrap(), b"data");
}

#[test]
fn symlink_loops_give_eloop() {
    let e = Env::new();
    e.symlink("/b", "/a").unwrap();
    e.symlink("/a", "/b").unwrap();
    e.symlink("self", "/self").unwrap();
    assert_eq!(e.stat("/a").unwrap_err(), Errno::ELOOP);
    assert_eq!(e.stat("/self/x").unwrap_err(), Errno::ELOOP);
    assert_eq!(e.open("/a", O_RDONLY).unwrap_err(), Errno::ELOOP);
    assert_eq!(e.open("/a", O_CREAT | O_WRONLY).unwrap_err(), Errno::ELOOP);
    assert!(e.lstat("/a").is_ok());
}

#[test]
fn forty_links_are_fine_forty_one_are_not() {
    let e = Env::new();
    e.write_file("/t", b"");
    e.symlink("/t", "/l0").unwrap();
    for i in 1..=40 {
        e.symlink(&format!("/l{}", i - 1), &format!("/l{i}"))
            .unwrap();
    }
    // l39 needs 40 follows, l40 needs 41.
    assert!(e.stat("/l39").is_ok());
    assert_eq!(e.stat("/l40").unwrap_err(), Errno::ELOOP);
}

#[test]
fn readlink_rules() {
    let e = Env::new();
    e.write_file("/f", b"");
    e.symlink("f", "/l").unwrap();
    assert_eq!(e.vfs.readlink(&e.root, b"/l").unwrap(), b"f");
    assert_eq!(e.vfs.readlink(&e.root, b"/f").unwrap_err(), Errno::EINVAL);
    assert_eq!(e.vfs.readlink(&e.root, b"/").unwrap_err(), Errno::EINVAL);
    assert_eq!(
        e.vfs.readlink(&e.root, b"/nope").unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(e.vfs.readlink(&e.root, b"").unwrap_err(), Errno::ENOENT);
}

#[test]
fn path_of_a_directory_deeper_than_path_max_is_enametoolong() {
    // 20 levels of 250-byte names: each step is created relative to the previous
    // directory (a path from the root would itself be too long), and the walk back up
    // stops at PATH_MAX instead of building the whole path.
    let e = Env::new();
    let name = "d".repeat(250);
    let mut dir = e.root.clone();
    for _ in 0..20 {
        dir = e
            .vfs
            .mkdir(&dir, name.as_bytes(), 0o755, rumprun_vfs::Cred::ROOT)
            .unwrap();
    }
    assert_eq!(e.vfs.path_of(&dir).unwrap_err(), Errno::ENAMETOOLONG);
}

#[test]
fn getcwd_paths() {
    let e = Env::new();
    let a = e.mkdir("/a").unwrap();
    let b = e.mkdir("/a/bb").unwrap();
    assert_eq!(e.vfs.path_of(&e.root).unwrap(), b"/");
    assert_eq!(e.vfs.path_of(&a).unwrap(), b"/a");
    assert_eq!(e.vfs.path_of(&b).unwrap(), b"/a/bb");
    e.mkdir("/z").unwrap();
    e.rename("/a", "/z/a2").unwrap();
    assert_eq!(e.vfs.path_of(&b).unwrap(), b"/z/a2/bb");
    e.rmdir("/z/a2/bb").unwrap();
    assert_eq!(e.vfs.path_of(&b).unwrap_err(), Errno::ENOENT);
    // A removed cwd: relative lookups fail with ENOENT, `..` too.
    assert_eq!(e.vfs.stat(&b, b"x", true).unwrap_err(), Errno::ENOENT);
    assert_eq!(e.vfs.stat(&b, b"..", true).unwrap_err(), Errno::ENOENT);
    assert_eq!(e.vfs.create_in_removed(&b), Errno::ENOENT);
    let f = e.write_file("/f", b"");
    assert_eq!(e.vfs.path_of(&f).unwrap_err(), Errno::ENOTDIR);
}

trait RemovedDir {
    fn create_in_removed(&self, dir: &InodeRef) -> Errno;
}

impl RemovedDir for Vfs {
    fn create_in_removed(&self, dir: &InodeRef) -> Errno {
        self.open(dir, b"new", O_CREAT | O_WRONLY, 0o644, Cred::ROOT)
            .unwrap_err()
    }
}
