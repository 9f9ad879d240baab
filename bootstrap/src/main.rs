//! `strato-bootstrap`: the bootstrap server. The SSH fan-out and job API arrive with the deploy work;
//! until then the binary only reports its version, so the bundle layout can already name it.
fn main() {
    println!("strato-bootstrap {}", env!("CARGO_PKG_VERSION"));
}
