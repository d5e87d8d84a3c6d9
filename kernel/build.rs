//! Links the kernel with our own linker script as a static, non-PIE ELF.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed={dir}/link.ld");
    println!("cargo:rerun-if-changed={dir}/src/arch/x86_64/boot.S");
    println!("cargo:rerun-if-changed={dir}/src/arch/x86_64/entry.S");
    println!("cargo:rerun-if-changed={dir}/src/arch/x86_64/mem.S");
    println!("cargo:rerun-if-changed={dir}/src/arch/x86_64/usercopy.S");
    for arg in [
        format!("-T{dir}/link.ld"),
        "-nostartfiles".into(),
        "-nodefaultlibs".into(),
        "-static".into(),
        "-no-pie".into(),
        "-Wl,--build-id=none".into(),
        "-Wl,-z,max-page-size=4096".into(),
        "-Wl,--gc-sections".into(),
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
