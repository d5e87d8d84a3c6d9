//! Host checks for the `kvm` platform: refuse clearly instead of hanging when KVM
//! cannot run a ring-0 guest. `RUMPRUN_KVM_DEV` and `RUMPRUN_SYSFS_ROOT` (hidden,
//! for tests) replace `/dev/kvm` and `/sys`.

use std::path::Path;

use crate::error::Error;

/// Checks the given KVM device and sysfs root.
pub fn check(kvm_dev: &str, sysfs_root: &str) -> Result<(), Error> {
    if !Path::new(kvm_dev).exists() {
        return Err(Error::new(format!(
            "kvm: {kvm_dev} not present (use \"rumprun qemu\")"
        )));
    }
    if Path::new(sysfs_root).join("module/kvm_pvm").exists() {
        return Err(Error::new(
            "kvm: this host's KVM is kvm_pvm (software, nested), which cannot run ring-0 unikernels; use \"rumprun qemu\"",
        ));
    }
    Ok(())
}

/// Checks this host (honouring the test overrides).
pub fn check_host() -> Result<(), Error> {
    let dev = std::env::var("RUMPRUN_KVM_DEV").unwrap_or_else(|_| "/dev/kvm".into());
    let sys = std::env::var("RUMPRUN_SYSFS_ROOT").unwrap_or_else(|_| "/sys".into());
    check(&dev, &sys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let root = std::env::temp_dir().join(format!("rumprun-kvm-test.{}", std::process::id()));
        let root_s = root.to_str().unwrap();
        std::fs::create_dir_all(&root).unwrap();
        let dev = root.join("kvm");
        std::fs::write(&dev, b"").unwrap();
        let dev_s = dev.to_str().unwrap();
        assert_eq!(
            check("/nonexistent/kvm", root_s).unwrap_err().message,
            "kvm: /nonexistent/kvm not present (use \"rumprun qemu\")"
        );
        assert_eq!(check(dev_s, root_s), Ok(()));
        std::fs::create_dir_all(root.join("module/kvm_pvm")).unwrap();
        assert!(check(dev_s, root_s)
            .unwrap_err()
            .message
            .contains("kvm_pvm"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
