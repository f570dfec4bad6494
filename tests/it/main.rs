//! The integration tests, one binary: each module tests one concern of the tool as its users
//! meet it. Binaries of their own: the cucumber run (`conformance`), the documentation's
//! commands (`docs`, which changes its working directory), and the soak (`soak`, which samples
//! its own process's descriptors and threads, so other tests may not run beside it).

mod architecture;
mod bad_input;
mod bounded_cost;
mod bounded_memory;
mod classifier;
mod common;
mod completeness;
mod conforming_variants;
mod connection_cap;
mod console;
mod coverage;
mod deviations;
mod exposed_stub;
mod false_alarms;
mod faults;
mod faulty_targets;
mod fixture_mistakes;
mod fuzz;
mod grammar;
mod hostile_text;
mod many_targets;
mod msrv;
mod one_try;
mod openapi;
mod page_trace;
mod politeness;
mod profile;
mod proxy;
mod reports;
mod reproducibility;
mod safety;
mod secrets;
mod signing;
mod spec;
mod standalone;
mod stub_served;
mod task_economy;
mod transient;
mod unusual_framing;
