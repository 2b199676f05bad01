//! Parses and validates every WGSL module the wgpu driver can build, for every dtype
//! variant, with naga (the compiler inside wgpu) and no GPU.

use lantern_kernels::wgsl::{all_specs, Group, Spec};

fn validate(spec: &Spec) -> Result<naga::Module, String> {
    let src = spec.source();
    let module = naga::front::wgsl::parse_str(&src)
        .map_err(|e| format!("{spec:?}: parse error:\n{}", e.emit_to_string(&src)))?;
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        // pack2x16float/unpack2x16float (f16 storage): wgpu grants this on Vulkan, Metal, DX12
        // and WebGPU (it is a downlevel flag for GLES only).
        naga::valid::Capabilities::SHADER_FLOAT16_IN_FLOAT32,
    )
    .validate(&module)
    .map_err(|e| format!("{spec:?}: invalid:\n{}", e.emit_to_string(&src)))?;
    Ok(module)
}

#[test]
fn every_variant_parses_and_validates() {
    let specs = all_specs();
    let mut failures = Vec::new();
    let mut entries = 0;
    for spec in &specs {
        match validate(spec) {
            Ok(m) => {
                entries += m.entry_points.len();
                for ep in &m.entry_points {
                    assert!(
                        ep.name.ends_with(&format!("_{}", spec.main.name())),
                        "{spec:?}: entry {} is not named {{op}}_{{dtype}}",
                        ep.name
                    );
                }
                assert!(!m.entry_points.is_empty(), "{spec:?}: no entry points");
            }
            Err(e) => failures.push(e),
        }
    }
    println!("validated {} modules, {entries} entry points", specs.len());
    if !failures.is_empty() {
        panic!(
            "{} of {} modules failed:\n{}",
            failures.len(),
            specs.len(),
            failures[..failures.len().min(4)].join("\n")
        );
    }
}

#[test]
fn every_group_has_a_file() {
    for g in Group::ALL {
        assert!(!g.source().is_empty(), "{}", g.name());
    }
}

#[test]
fn layer_norm_variants_define_their_entry_point() {
    use lantern_kernels::wgsl::Elem;
    for e in [Elem::F32, Elem::F16, Elem::BF16] {
        for (w, b) in [(false, false), (true, false), (true, true)] {
            let spec = Spec::layer_norm(e, w, b);
            assert!(all_specs().contains(&spec), "{spec:?} is not validated");
            let m = validate(&spec).unwrap_or_else(|err| panic!("{err}"));
            let names: Vec<&str> = m.entry_points.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(names, [spec.entry("layer_norm")], "{spec:?}");
        }
    }
}
