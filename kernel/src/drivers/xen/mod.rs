//! Xen's PV device front-ends, next to the virtio drivers: `blkfront` (vbd disks as
//! `BlockDevice`s, `/dev/vda`, ...) and `netfront` (vifs as `NetDevice`s), over the
//! Xen platform's grant table, event channels and xenstore (`platform::xen`), which
//! probes them at boot.

pub mod blkfront;
pub mod netfront;
