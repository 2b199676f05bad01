//! A tour of Lantern's tensors on the CPU driver: creation, views, broadcasting,
//! matmul, reductions, errors and memory stats.

use lantern::{manual_seed, DType, Device, Tensor};

fn main() -> lantern::Result<()> {
    let cpu = Device::cpu();
    manual_seed(0);
    let x = Tensor::try_randn([2, 3], DType::F32, &cpu)?;
    println!("x = {x}");
    let w = Tensor::try_arange(0.0, 6.0, 1.0, DType::F32, &cpu)?.try_reshape(&[3, 2])?;
    let y = x.try_matmul(&w)?.try_relu()?;
    println!("relu(x @ w) = {y}");
    println!(
        "x.t() shares storage with x: {}",
        x.try_t()?.shares_storage(&x)
    );
    let s = y.try_softmax(-1)?;
    println!("softmax = {s}");
    println!("sum over dim 0 = {}", s.try_sum(Some(&[0]), false)?);
    match x.try_matmul(&x) {
        Ok(_) => unreachable!("[2, 3] @ [2, 3] must fail"),
        Err(e) => println!("error, as expected: {e}"),
    }
    let m = cpu.memory();
    println!(
        "cpu memory: {} B in use, peak {} B, reserved {} B, {} system allocations",
        m.in_use, m.peak, m.reserved, m.allocations
    );
    Ok(())
}
