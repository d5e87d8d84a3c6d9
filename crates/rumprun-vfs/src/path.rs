//! Path syntax: the Linux limits ([`NAME_MAX`], [`PATH_MAX`], [`MAX_SYMLINKS`]) and the
//! splitting of a path into components ([`split`]). Walking the components through
//! directories, symlinks and mounts is [`crate::Vfs`]'s job.

use alloc::vec::Vec;

use crate::errno::{Errno, VfsResult};

/// Longest file name (one component), in bytes.
pub const NAME_MAX: usize = 255;
/// Size of the longest path including its NUL: a path may have at most 4095 bytes.
pub const PATH_MAX: usize = 4096;
/// Symlinks followed in one resolution before ELOOP.
pub const MAX_SYMLINKS: u32 = 40;

/// One component of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component<'a> {
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// Anything else (never empty, never contains `/`).
    Name(&'a [u8]),
}

/// A path taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitPath<'a> {
    /// Starts with `/`.
    pub absolute: bool,
    /// The components; repeated slashes produce none. Empty for `/`.
    pub components: Vec<Component<'a>>,
    /// Ends with `/` after a component (`a/`): the last component must be a directory.
    pub trailing_slash: bool,
}

/// Checks the length rules for a path argument: empty is ENOENT, 4096 bytes or more is
/// ENAMETOOLONG.
pub fn check_path(path: &[u8]) -> VfsResult<()> {
    if path.is_empty() {
        Err(Errno::ENOENT)
    } else if path.len() >= PATH_MAX {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(())
    }
}

/// Checks one name against [`NAME_MAX`].
pub fn check_name(name: &[u8]) -> VfsResult<()> {
    if name.len() > NAME_MAX {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(())
    }
}

/// Splits `path` (after [`check_path`]).
pub fn split(path: &[u8]) -> VfsResult<SplitPath<'_>> {
    check_path(path)?;
    let components: Vec<Component<'_>> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| match c {
            b"." => Component::Dot,
            b".." => Component::DotDot,
            name => Component::Name(name),
        })
        .collect();
    Ok(SplitPath {
        absolute: path[0] == b'/',
        trailing_slash: path.last() == Some(&b'/') && !components.is_empty(),
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Component::*;

    #[test]
    fn splitting() {
        let s = split(b"//a/./b//../c/").unwrap();
        assert!(s.absolute && s.trailing_slash);
        assert_eq!(
            s.components,
            [Name(b"a"), Dot, Name(b"b"), DotDot, Name(b"c")]
        );
        let s = split(b"/").unwrap();
        assert!(s.absolute && !s.trailing_slash && s.components.is_empty());
        let s = split(b"x").unwrap();
        assert!(!s.absolute && !s.trailing_slash);
        assert_eq!(s.components, [Name(b"x")]);
        assert_eq!(split(b"...").unwrap().components, [Name(b"...")]);
    }

    #[test]
    fn limits() {
        assert_eq!(split(b"").unwrap_err(), Errno::ENOENT);
        assert!(split(&[b'a'; PATH_MAX - 1]).is_ok());
        assert_eq!(split(&[b'a'; PATH_MAX]).unwrap_err(), Errno::ENAMETOOLONG);
        assert!(check_name(&[b'a'; NAME_MAX]).is_ok());
        assert_eq!(
            check_name(&[b'a'; NAME_MAX + 1]).unwrap_err(),
            Errno::ENAMETOOLONG
        );
    }
}
