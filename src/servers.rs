//! The servers of the tool's own: the accept loop they share (`listen`), the built-in stub
//! (`stub`) and the proxy that watches a server and its clients (`proxy`).

pub mod listen;
pub mod proxy;
pub mod stub;
