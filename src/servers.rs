//! The servers of the tool's own: the accept loop they share (`http_server`), the built-in stub
//! (`stub`) and the proxy that watches a server and its clients (`proxy`).

pub mod http_server;
pub mod proxy;
pub mod stub;
