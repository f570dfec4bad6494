//! The example profiles (`profiles/`), built into the binary.

/// The example profiles, built into the binary: `--profile otc-eu-de` works from anywhere.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("otc-eu-de", include_str!("../../profiles/otc-eu-de.yaml")),
    ("otc-eu-nl", include_str!("../../profiles/otc-eu-nl.yaml")),
    (
        "huawei-ap-southeast-1",
        include_str!("../../profiles/huawei-ap-southeast-1.yaml"),
    ),
];

/// The built-in profile `name` names (with or without `.yaml`), if any.
pub(crate) fn built_in(name: &str) -> Option<&'static str> {
    let name = name.strip_suffix(".yaml").unwrap_or(name);
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
