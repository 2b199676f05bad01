//! Define-by-run autograd (DESIGN.md, "Autograd").
//!
//! An op on tensors that require grad records a [`Node`] on its output: the op (with what
//! its backward rule needs), edges to its inputs' nodes or leaves, and saved tensors.
//! [`backward`] sorts the graph without recursion and walks it in reverse; the rules live
//! in one place, `rules.rs`, written with public tensor ops so they run on every driver
//! and differentiate again (`create_graph`).
//!
//! Saved *inputs* keep their autograd link (higher-order gradients need it, and an input
//! only points back in time, so no cycle forms); saved *outputs* are stored detached, so a
//! node never owns itself. Every saved tensor records its storage version: an in-place
//! write before backward is an error, as in PyTorch.

pub(crate) mod rules;

use crate::driver::{MaybeSend, MaybeSync};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use hashbrown::hash_map::Entry;
pub use rules::GradOp;
use smallvec::SmallVec;

// ------------------------------------------------------------------------- grad mode

#[cfg(feature = "std")]
std::thread_local! {
    static GRAD_ENABLED: core::cell::Cell<bool> = const { core::cell::Cell::new(true) };
}
#[cfg(not(feature = "std"))]
static GRAD_ENABLED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// Whether ops record graph nodes (thread-local under `std`, global without).
pub fn is_grad_enabled() -> bool {
    #[cfg(feature = "std")]
    {
        GRAD_ENABLED.with(|g| g.get())
    }
    #[cfg(not(feature = "std"))]
    {
        GRAD_ENABLED.load(core::sync::atomic::Ordering::Relaxed)
    }
}

/// Turns recording on or off; returns the previous state.
pub fn set_grad_enabled(on: bool) -> bool {
    #[cfg(feature = "std")]
    {
        GRAD_ENABLED.with(|g| g.replace(on))
    }
    #[cfg(not(feature = "std"))]
    {
        GRAD_ENABLED.swap(on, core::sync::atomic::Ordering::Relaxed)
    }
}

/// Disables recording until dropped (PyTorch's `torch.no_grad()`).
#[must_use = "recording resumes when the guard is dropped"]
pub struct NoGradGuard {
    prev: bool,
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.prev);
    }
}

/// A guard that disables gradient recording while it lives.
pub fn no_grad() -> NoGradGuard {
    NoGradGuard {
        prev: set_grad_enabled(false),
    }
}

/// Runs `f` with recording set to `on`, restoring the previous mode after.
pub fn with_grad_mode<T>(on: bool, f: impl FnOnce() -> T) -> T {
    let prev = set_grad_enabled(on);
    let r = f();
    set_grad_enabled(prev);
    r
}

// ------------------------------------------------------------------------- graph

/// A gradient hook: receives the gradient, may return a replacement.
pub type Hook = Box<dyn HookFn>;

/// What a gradient hook is: `Fn(&grad) -> Option<replacement>`, `Send + Sync` natively.
pub trait HookFn: Fn(&Tensor) -> Option<Tensor> + MaybeSend + MaybeSync {}
impl<F: Fn(&Tensor) -> Option<Tensor> + MaybeSend + MaybeSync> HookFn for F {}

/// Where a node's gradient goes for one input.
#[derive(Clone)]
pub(crate) enum Edge {
    /// A non-leaf input: its gradient flows into its own node.
    Node(Arc<Node>),
    /// A leaf that requires grad: its gradient accumulates into `.grad()`.
    Leaf(Tensor),
}

/// A tensor saved for backward, with the storage version at the time it was saved.
pub(crate) struct Saved {
    tensor: Tensor,
    version: usize,
    /// An output of the node that saved it: stored detached, re-linked to that node when
    /// unpacked for a `create_graph` backward (PyTorch's `SavedVariable` does the same).
    is_output: bool,
}

impl Saved {
    /// Saves an input (keeps its autograd link).
    pub(crate) fn input(t: &Tensor) -> Saved {
        Saved {
            tensor: t.clone(),
            version: t.storage().version(),
            is_output: false,
        }
    }

    /// Saves an output, detached (a node must not own itself).
    pub(crate) fn output(t: &Tensor) -> Saved {
        Saved {
            tensor: t.detach(),
            version: t.storage().version(),
            is_output: true,
        }
    }

    /// The saved tensor; under `create_graph` a saved output is re-linked to `node` (its
    /// producer), so rules written with the output (`tanh`, `exp`, softmax) differentiate
    /// again through it. Detached, their second-order terms would silently be zero.
    fn unpack(&self, node: &Arc<Node>, create_graph: bool) -> Result<Tensor> {
        let op = node.name();
        let now = self.tensor.storage().version();
        if now != self.version {
            return Err(Error::Autograd(alloc::format!(
                "one of the tensors needed for the gradient of {op} has been modified by an \
                 in-place operation: its version is {now}, expected {}",
                self.version
            )));
        }
        if create_graph && self.is_output {
            return Ok(self.tensor.clone().with_grad_fn(node.clone()));
        }
        Ok(self.tensor.clone())
    }
}

/// One recorded op: the backward of one output.
pub struct Node {
    pub(crate) op: GradOp,
    pub(crate) inputs: SmallVec<[Option<Edge>; 3]>,
    saved: spin::Mutex<Option<SmallVec<[Saved; 3]>>>,
    hooks: spin::Mutex<Vec<Hook>>,
}

impl Node {
    /// The op's name (`"mul"`, `"expand"`), for errors and debugging.
    pub fn name(&self) -> &'static str {
        self.op.name()
    }
}

impl Drop for Node {
    // Iterative: a 100,000-node chain must not overflow the stack when dropped.
    fn drop(&mut self) {
        let mut stack: Vec<Arc<Node>> = Vec::new();
        take_links(self, &mut stack);
        while let Some(n) = stack.pop() {
            if let Ok(mut node) = Arc::try_unwrap(n) {
                take_links(&mut node, &mut stack);
            }
        }
    }
}

/// Moves a node's links to other nodes (edges, and saved inputs' nodes) onto `stack`.
fn take_links(node: &mut Node, stack: &mut Vec<Arc<Node>>) {
    for e in node.inputs.drain(..) {
        match e {
            Some(Edge::Node(n)) => stack.push(n),
            Some(Edge::Leaf(_)) | None => {}
        }
    }
    if let Some(saved) = node.saved.get_mut().take() {
        for s in saved {
            if let Some(n) = s.tensor.take_grad_fn_if_unique() {
                stack.push(n);
            }
        }
    }
}

/// Per-tensor autograd state: the leaf gradient and hooks.
#[derive(Default)]
pub(crate) struct GradCell {
    pub(crate) grad: Option<Tensor>,
    pub(crate) hooks: Vec<Hook>,
}

// ------------------------------------------------------------------------- recording

/// True when an op on `inputs` must record a node.
pub(crate) fn needs_grad(inputs: &[&Tensor]) -> bool {
    inputs.iter().any(|t| t.requires_grad()) && is_grad_enabled()
}

fn edge_of(t: &Tensor) -> Option<Edge> {
    if let Some(n) = t.grad_fn() {
        Some(Edge::Node(n.clone()))
    } else if t.requires_grad() {
        Some(Edge::Leaf(t.clone()))
    } else {
        None
    }
}

/// Attaches a node for `op` to `out` when any input requires grad and grad mode is on.
/// `saved` is only called when a node is recorded.
pub(crate) fn record(
    out: Tensor,
    op: GradOp,
    inputs: &[&Tensor],
    saved: impl FnOnce(&Tensor) -> SmallVec<[Saved; 3]>,
) -> Tensor {
    if !needs_grad(inputs) {
        return out;
    }
    let node = Node {
        op,
        inputs: inputs.iter().map(|t| edge_of(t)).collect(),
        saved: spin::Mutex::new(Some(saved(&out))),
        hooks: spin::Mutex::new(Vec::new()),
    };
    out.with_grad_fn(Arc::new(node))
}

// ------------------------------------------------------------------------- backward

/// A node's or a leaf's identity (its `Arc` address) → its position in a `Vec`: the one map
/// type of backward (gradients live in `Vec`s, indexed by position).
type Index = hashbrown::HashMap<usize, usize>;

/// The position of a node seen by [`topo_order`] but not placed yet (still on its stack).
const UNPLACED: usize = usize::MAX;

fn key(n: &Arc<Node>) -> usize {
    Arc::as_ptr(n) as *const u8 as usize
}

/// The nodes reachable from `roots`, inputs before the nodes that consume them, and each
/// node's position in that order by [`key`].
fn topo_order(roots: &[Arc<Node>]) -> (Vec<Arc<Node>>, Index) {
    let mut order = Vec::new();
    let mut pos = Index::default();
    // Marks `n` seen; true the first time.
    fn first_visit(pos: &mut Index, n: &Arc<Node>) -> bool {
        match pos.entry(key(n)) {
            Entry::Vacant(e) => {
                e.insert(UNPLACED);
                true
            }
            Entry::Occupied(_) => false,
        }
    }
    // (node, next input to visit)
    let mut stack: Vec<(Arc<Node>, usize)> = Vec::new();
    for r in roots {
        if first_visit(&mut pos, r) {
            stack.push((r.clone(), 0));
        }
        while let Some((n, i)) = stack.pop() {
            if i < n.inputs.len() {
                let next = match &n.inputs[i] {
                    Some(Edge::Node(m)) if first_visit(&mut pos, m) => Some(m.clone()),
                    _ => None,
                };
                stack.push((n, i + 1));
                if let Some(m) = next {
                    stack.push((m, 0));
                }
            } else {
                if let Some(p) = pos.get_mut(&key(&n)) {
                    *p = order.len();
                }
                order.push(n);
            }
        }
    }
    (order, pos)
}

fn accumulate(slot: &mut Option<Tensor>, g: Tensor) -> Result<()> {
    *slot = Some(match slot.take() {
        None => g,
        Some(prev) => prev.try_add(&g)?,
    });
    Ok(())
}

/// Gradients of leaves: `(leaf, gradient)` in the order the leaves were first reached, and
/// each leaf's position there by its storage-independent identity.
#[derive(Default)]
struct LeafGrads {
    grads: Vec<(Tensor, Tensor)>,
    pos: Index,
}

impl LeafGrads {
    /// Adds `g` into `leaf`'s gradient.
    fn add(&mut self, leaf: &Tensor, g: Tensor) -> Result<()> {
        match self.pos.entry(leaf.leaf_key()) {
            Entry::Occupied(e) => {
                let slot = &mut self.grads[*e.get()].1;
                *slot = slot.try_add(&g)?;
            }
            Entry::Vacant(e) => {
                e.insert(self.grads.len());
                self.grads.push((leaf.clone(), g));
            }
        }
        Ok(())
    }
}

/// What one backward computed.
struct Grads {
    leaves: LeafGrads,
    /// Node positions (as from [`topo_order`]).
    pos: Index,
    /// By node position: the gradient of a node that `run_backward` was asked to keep
    /// (`want`), `None` for the others.
    nodes: Vec<Option<Tensor>>,
}

/// Runs backward from `outputs` seeded with `grads`; returns the gradients of the leaves
/// (and of the non-leaves in `want`) without writing `.grad()`.
fn run_backward(
    outputs: &[Tensor],
    grads: Vec<Tensor>,
    retain_graph: bool,
    create_graph: bool,
    want: Option<&[Tensor]>,
) -> Result<Grads> {
    let _mode = GradModeRestore(set_grad_enabled(create_graph));
    let roots: Vec<Arc<Node>> = outputs
        .iter()
        .filter_map(|o| o.grad_fn().cloned())
        .collect();
    let (order, pos) = topo_order(&roots);
    // By position; a node's slot is complete once every consumer (later in `order`) ran.
    let mut node_grads: Vec<Option<Tensor>> = Vec::new();
    node_grads.resize_with(order.len(), || None);
    let mut leaf_grads = LeafGrads::default();
    for (o, g) in outputs.iter().zip(grads) {
        match o.grad_fn() {
            Some(n) => accumulate(&mut node_grads[pos[&key(n)]], g)?,
            None if o.requires_grad() => leaf_grads.add(o, g)?,
            None => {
                return Err(Error::Autograd(String::from(
                    "element 0 of tensors does not require grad and does not have a grad_fn",
                )))
            }
        }
    }
    // Gradients of requested non-leaf inputs (autograd::grad with intermediate tensors).
    let mut wanted: Vec<bool> = Vec::new();
    if let Some(w) = want {
        wanted.resize(order.len(), false);
        for n in w.iter().filter_map(|t| t.grad_fn()) {
            if let Some(&i) = pos.get(&key(n)) {
                wanted[i] = true;
            }
        }
    }
    for (i, node) in order.iter().enumerate().rev() {
        let Some(mut g) = node_grads[i].take() else {
            continue;
        };
        for h in node.hooks.lock().iter() {
            if let Some(r) = h(&g) {
                g = r;
            }
        }
        if wanted.get(i) == Some(&true) {
            // Nothing adds into this slot any more: its consumers all ran.
            node_grads[i] = Some(g.clone());
        }
        let saved_tensors: SmallVec<[Tensor; 3]> = {
            let mut lock = node.saved.lock();
            let unpack = |list: &SmallVec<[Saved; 3]>| -> Result<SmallVec<[Tensor; 3]>> {
                list.iter().map(|s| s.unpack(node, create_graph)).collect()
            };
            let got = if retain_graph {
                lock.as_ref().map(unpack)
            } else {
                lock.take().as_ref().map(unpack)
            };
            drop(lock);
            match got {
                Some(r) => r?,
                None => {
                    return Err(Error::Autograd(alloc::format!(
                        "trying to backward through the graph a second time in {}: pass \
                         retain_graph = true to the first backward",
                        node.name()
                    )))
                }
            }
        };
        rules_step(
            node,
            saved_tensors,
            g,
            &pos,
            &mut node_grads,
            &mut leaf_grads,
        )?;
    }
    Ok(Grads {
        leaves: leaf_grads,
        pos,
        nodes: node_grads,
    })
}

fn rules_step(
    node: &Arc<Node>,
    saved: SmallVec<[Tensor; 3]>,
    g: Tensor,
    pos: &Index,
    node_grads: &mut [Option<Tensor>],
    leaf_grads: &mut LeafGrads,
) -> Result<()> {
    let needs: SmallVec<[bool; 3]> = node.inputs.iter().map(|e| e.is_some()).collect();
    let gin = rules::backward(&node.op, &saved, &g, &needs)?;
    for (edge, gi) in node.inputs.iter().zip(gin) {
        let (Some(edge), Some(gi)) = (edge, gi) else {
            continue;
        };
        match edge {
            // Every input node was reached by `topo_order`.
            Edge::Node(m) => accumulate(&mut node_grads[pos[&key(m)]], gi)?,
            Edge::Leaf(t) => leaf_grads.add(t, gi)?,
        }
    }
    Ok(())
}

struct GradModeRestore(bool);
impl Drop for GradModeRestore {
    fn drop(&mut self) {
        set_grad_enabled(self.0);
    }
}

fn seed_grads(outputs: &[Tensor], grads: Option<&[Tensor]>) -> Result<Vec<Tensor>> {
    match grads {
        Some(gs) => {
            if gs.len() != outputs.len() {
                return Err(Error::Autograd(alloc::format!(
                    "got {} gradients for {} outputs",
                    gs.len(),
                    outputs.len()
                )));
            }
            for (o, g) in outputs.iter().zip(gs) {
                if o.shape() != g.shape() {
                    return Err(crate::error::shape_err(
                        "backward",
                        alloc::format!("a gradient of the output's shape {}", o.shape()),
                        g.shape(),
                    ));
                }
            }
            Ok(gs.to_vec())
        }
        None => outputs
            .iter()
            .map(|o| {
                if o.numel() != 1 {
                    return Err(Error::Autograd(alloc::format!(
                        "grad can be implicitly created only for scalar outputs, got shape {}",
                        o.shape()
                    )));
                }
                o.detach().try_ones_like()
            })
            .collect(),
    }
}

/// Computes gradients of `outputs` and accumulates them into the leaves' `.grad()`.
pub fn backward(
    outputs: &[Tensor],
    grads: Option<&[Tensor]>,
    retain_graph: bool,
    create_graph: bool,
) -> Result<()> {
    let seeds = seed_grads(outputs, grads)?;
    let grads = run_backward(
        outputs,
        seeds,
        retain_graph || create_graph,
        create_graph,
        None,
    )?;
    for (leaf, g) in grads.leaves.grads {
        leaf.accumulate_grad(g, create_graph)?;
    }
    Ok(())
}

/// Gradients of `outputs` with respect to `inputs`, without touching `.grad()` (PyTorch's
/// `torch.autograd.grad`). `None` for an input the outputs do not depend on.
pub fn grad(
    outputs: &[Tensor],
    inputs: &[Tensor],
    grad_outputs: Option<&[Tensor]>,
    retain_graph: bool,
    create_graph: bool,
) -> Result<Vec<Option<Tensor>>> {
    let seeds = seed_grads(outputs, grad_outputs)?;
    let grads = run_backward(
        outputs,
        seeds,
        retain_graph || create_graph,
        create_graph,
        Some(inputs),
    )?;
    Ok(inputs
        .iter()
        .map(|t| match t.grad_fn() {
            Some(n) => grads.pos.get(&key(n)).and_then(|&i| grads.nodes[i].clone()),
            None => (grads.leaves.pos.get(&t.leaf_key())).map(|&i| grads.leaves.grads[i].1.clone()),
        })
        .collect())
}

/// Registers a hook on a non-leaf's node.
pub(crate) fn add_node_hook(n: &Arc<Node>, h: Hook) {
    n.hooks.lock().push(h);
}
