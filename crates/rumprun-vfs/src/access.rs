//! Permission checks for `access`/`faccessat2`: the classic owner/group/other rules, with
//! root's override (root may read and write anything and execute anything that has at
//! least one execute bit, and search any directory). The VFS does not check permissions
//! on other operations: a unikernel program runs as root.

use crate::errno::{Errno, VfsResult};
use crate::flags::{R_OK, W_OK, X_OK};
use crate::inode::Cred;
use crate::stat::{FileType, Stat};

/// Whether `cred` may access a file with metadata `st` for `mode` (`R_OK|W_OK|X_OK`,
/// `F_OK` = 0): Ok or EACCES. EINVAL for unknown mode bits.
pub fn check_access(st: &Stat, cred: Cred, mode: u32) -> VfsResult<()> {
    if mode & !(R_OK | W_OK | X_OK) != 0 {
        return Err(Errno::EINVAL);
    }
    if cred.uid == 0 {
        let exec_needed = mode & X_OK != 0 && st.file_type() != FileType::Directory;
        return if exec_needed && st.mode & 0o111 == 0 {
            Err(Errno::EACCES)
        } else {
            Ok(())
        };
    }
    let bits = if st.uid == cred.uid {
        (st.mode >> 6) & 7
    } else if st.gid == cred.gid {
        (st.mode >> 3) & 7
    } else {
        st.mode & 7
    };
    if mode & bits == mode {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stat::{Timespec, S_IFDIR, S_IFREG};

    fn st(mode: u32, uid: u32, gid: u32) -> Stat {
        Stat {
            dev: 0,
            ino: 1,
            mode,
            nlink: 1,
            uid,
            gid,
            rdev: 0,
            size: 0,
            blksize: 4096,
            blocks: 0,
            atime: Timespec::ZERO,
            mtime: Timespec::ZERO,
            ctime: Timespec::ZERO,
            btime: Timespec::ZERO,
        }
    }

    #[test]
    fn root_rules() {
        let f = st(S_IFREG, 5, 5);
        assert_eq!(check_access(&f, Cred::ROOT, R_OK | W_OK), Ok(()));
        assert_eq!(check_access(&f, Cred::ROOT, X_OK), Err(Errno::EACCES));
        assert_eq!(
            check_access(&st(S_IFREG | 0o001, 5, 5), Cred::ROOT, X_OK),
            Ok(())
        );
        assert_eq!(check_access(&st(S_IFDIR, 5, 5), Cred::ROOT, X_OK), Ok(()));
        assert_eq!(check_access(&f, Cred::ROOT, 8), Err(Errno::EINVAL));
    }

    #[test]
    fn user_rules() {
        let f = st(S_IFREG | 0o640, 10, 20);
        let owner = Cred { uid: 10, gid: 99 };
        let member = Cred { uid: 11, gid: 20 };
        let other = Cred { uid: 12, gid: 21 };
        assert_eq!(check_access(&f, owner, R_OK | W_OK), Ok(()));
        assert_eq!(check_access(&f, owner, X_OK), Err(Errno::EACCES));
        assert_eq!(check_access(&f, member, R_OK), Ok(()));
        assert_eq!(check_access(&f, member, W_OK), Err(Errno::EACCES));
        assert_eq!(check_access(&f, other, R_OK), Err(Errno::EACCES));
        assert_eq!(check_access(&f, other, 0), Ok(()));
    }
}
