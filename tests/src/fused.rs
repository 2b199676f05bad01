//! Fused kernels of other drivers against the CPU, for the driver crates' tests: the kernel
//! must run (a driver declining it would silently test core's composed default instead),
//! and its outputs and the gradients through it must match f64 references.

use lantern::nn::functional::layer_norm;
use lantern::ops::{layer_norm_stats_dtype, FusedOp};
use lantern::{autograd, DType, Device, Result, Tensor};

/// Deterministic values in about [-3, 5): offset from zero so the statistics matter.
fn values(n: usize, seed: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i * 37 + seed * 101) % 97) as f64 / 12.0 - 3.0)
        .collect()
}

fn check(what: &str, got: &Tensor, want: &Tensor, tol: f64, failures: &mut Vec<String>) {
    let (a, b) = (got.to_f64_vec(), want.to_f64_vec());
    if a.len() != b.len() {
        failures.push(format!(
            "{what}: {} elements, expected {}",
            a.len(),
            b.len()
        ));
        return;
    }
    if let Some((i, (x, y))) = a
        .iter()
        .zip(&b)
        .enumerate()
        .find(|(_, (x, y))| (*x - *y).abs() > tol * (1.0 + y.abs()) || x.is_nan() != y.is_nan())
    {
        failures.push(format!("{what}: element {i}: {x} vs {y} (f64 reference)"));
    }
}

/// `FusedOp::LayerNorm` on `dev` for each of `dtypes`: the driver's kernel called directly
/// (y, mean and rstd against f64 statistics of the same rounded inputs), then
/// `functional::layer_norm` and its gradients against the CPU in f64. Returns the failures.
pub fn layer_norm_against_the_cpu(dev: &Device, dtypes: &[DType]) -> Vec<String> {
    let mut failures = Vec::new();
    for &dt in dtypes {
        for (shape, norm) in [
            (&[3usize, 1003][..], &[1003usize][..]),
            (&[2, 3, 5], &[3, 5]),
        ] {
            for affine in 0..3 {
                let what = format!("layer_norm {shape:?} over {norm:?} {dt:?} affine {affine}");
                if let Err(e) = layer_norm_case(dev, dt, shape, norm, affine, &mut failures) {
                    failures.push(format!("{what}: {e}"));
                }
            }
        }
    }
    failures
}

fn layer_norm_case(
    dev: &Device,
    dt: DType,
    shape: &[usize],
    norm: &[usize],
    affine: usize,
    failures: &mut Vec<String>,
) -> Result<()> {
    let cpu = Device::cpu();
    let what = format!("layer_norm {shape:?} over {norm:?} {dt:?} affine {affine}");
    let eps = 1e-5;
    let (n, m) = (shape.iter().product(), norm.iter().product());
    // The inputs rounded to `dt` once, so device and reference see the same values.
    let leaf = |v: Vec<f64>, s: &[usize]| -> Result<Tensor> {
        Tensor::try_from_slice(&v, s.to_vec(), &cpu)?.try_to_dtype(dt)
    };
    let x = leaf(values(n, 1), shape)?;
    let w = leaf(values(m, 2).iter().map(|v| 1.0 + v / 8.0).collect(), norm)?;
    let b = leaf(values(m, 3).iter().map(|v| v / 4.0).collect(), norm)?;
    let params: Vec<&Tensor> = [&w, &b][..affine].to_vec();
    let tol = match dt {
        DType::F64 => 1e-10,
        DType::F32 => 1e-5,
        _ => 2e-2,
    };

    // The reference, in f64 on the CPU.
    let f64_of = |t: &Tensor| t.try_to_dtype(DType::F64);
    let (x64, w64, b64) = (f64_of(&x)?, f64_of(&w)?, f64_of(&b)?);
    let dims: Vec<isize> = (-(norm.len() as isize)..0).collect();
    let mean = x64.try_mean(Some(&dims), true)?;
    let d = x64.try_sub(&mean)?;
    let var = d.try_mul(&d)?.try_mean(Some(&dims), true)?;
    let rstd = var.try_add_scalar(eps)?.try_rsqrt()?;
    let mut y = d.try_mul(&rstd)?;
    if affine > 0 {
        y = y.try_mul(&w64)?;
    }
    if affine > 1 {
        y = y.try_add(&b64)?;
    }

    // The driver's kernel, called directly: it must run, and its statistics are checked.
    let sdt = layer_norm_stats_dtype(dt);
    let mut stat_shape = shape[..shape.len() - norm.len()].to_vec();
    stat_shape.resize(shape.len(), 1);
    let xd = x.try_to_device(dev)?;
    let pd: Vec<Tensor> = params
        .iter()
        .map(|p| p.try_to_device(dev))
        .collect::<Result<_>>()?;
    let yd = Tensor::try_zeros(shape.to_vec(), dt, dev)?;
    let md = Tensor::try_zeros(stat_shape.clone(), sdt, dev)?;
    let rd = Tensor::try_zeros(stat_shape, sdt, dev)?;
    let mut ins = vec![xd.as_view()];
    ins.extend(pd.iter().map(|p| p.as_view()));
    let outs = [yd.as_view(), md.as_view(), rd.as_view()];
    match dev.driver().fused(&FusedOp::LayerNorm { eps }, &ins, &outs) {
        Some(r) => r?,
        None => {
            failures.push(format!("{what}: {dev} has no layer norm kernel"));
            return Ok(());
        }
    }
    let stat_tol = if sdt == DType::F64 { 1e-10 } else { 1e-5 };
    check(&format!("{what}: kernel y"), &yd, &y, tol, failures);
    check(
        &format!("{what}: kernel mean"),
        &md,
        &mean,
        stat_tol,
        failures,
    );
    check(
        &format!("{what}: kernel rstd"),
        &rd,
        &rstd,
        stat_tol,
        failures,
    );

    // Through the tensor API: the output and every gradient for a fixed output gradient.
    let gy = leaf(values(n, 4).iter().map(|v| v / 3.0).collect(), shape)?;
    let run = |x: &Tensor, ps: &[Tensor], gy: &Tensor| -> Result<(Tensor, Vec<Tensor>)> {
        let mut leaves = vec![x.detach().requires_grad_(true)];
        leaves.extend(ps.iter().map(|p| p.detach().requires_grad_(true)));
        let out = layer_norm(&leaves[0], norm, leaves.get(1), leaves.get(2), eps)?;
        let gs = autograd::grad(
            std::slice::from_ref(&out),
            &leaves,
            Some(std::slice::from_ref(gy)),
            false,
            false,
        )?;
        Ok((out, gs.into_iter().flatten().collect()))
    };
    let ps64: Vec<Tensor> = [w64, b64][..affine].to_vec();
    let (want_y, want_g) = run(&x64, &ps64, &f64_of(&gy)?)?;
    let (got_y, got_g) = run(&xd, &pd, &gy.try_to_device(dev)?)?;
    check(&format!("{what}: y"), &got_y, &want_y, tol, failures);
    if got_g.len() != want_g.len() {
        failures.push(format!(
            "{what}: {} gradients, expected {}",
            got_g.len(),
            want_g.len()
        ));
    }
    // Gradients sum over rows (the weight's over up to 1003·3 terms): a looser tolerance.
    for (i, (g, r)) in got_g.iter().zip(&want_g).enumerate() {
        check(&format!("{what}: grad {i}"), g, r, tol * 20.0, failures);
    }
    Ok(())
}
