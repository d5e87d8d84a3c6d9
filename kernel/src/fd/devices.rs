//! The character devices of /dev: null, zero, full, random, urandom.

use super::{FileOps, OpenFile};
use crate::errno::*;
use crate::fd::stat::{makedev, Stat, S_IFCHR};
use core::any::Any;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Null,
    Zero,
    Full,
    Random,
}

impl Device {
    fn minor(self) -> u32 {
        match self {
            Device::Null => 3,
            Device::Zero => 5,
            Device::Full => 7,
            Device::Random => 9,
        }
    }
}

impl FileOps for Device {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        self.pread(buf, 0)
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        self.pwrite(buf, 0)
    }
    fn pread(&self, buf: &mut [u8], _offset: u64) -> Result<usize, Errno> {
        match self {
            Device::Null => Ok(0),
            Device::Zero | Device::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Device::Random => {
                crate::random::fill(buf);
                Ok(buf.len())
            }
        }
    }
    fn pwrite(&self, buf: &[u8], _offset: u64) -> Result<usize, Errno> {
        match self {
            Device::Full => Err(ENOSPC),
            _ => Ok(buf.len()),
        }
    }
    fn seek(&self, _file: &OpenFile, _offset: i64, _whence: u32) -> Result<u64, Errno> {
        Ok(0)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(
            S_IFCHR | 0o666,
            10 + self.minor() as u64,
            makedev(1, self.minor()),
        ))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
