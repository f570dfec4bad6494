//! The names of the stub's behaviours on the command line, written once for each kind
//! (deviations, variants): from a table of `(value, name, what it does)` in the order of the
//! enum come `ALL`, `name`, `describe`, `from_name` and `Display`.

/// Implements `ALL` (`$n` values, the table checked to be in the order of the enum as it is
/// built), `name`, `describe`, `from_name` and `Display` for `$type` from its table `$rows`.
macro_rules! named {
    ($type:ident, $rows:ident, $n:literal) => {
        impl $type {
            /// Every value, in the order of the enum (which the table's is: checked as it is
            /// built).
            pub const ALL: [$type; $n] = {
                let mut all = [$rows[0].0; $n];
                let mut i = 0;
                while i < $rows.len() {
                    assert!(
                        $rows[i].0 as usize == i,
                        "the table is in the order of the enum"
                    );
                    all[i] = $rows[i].0;
                    i += 1;
                }
                all
            };

            /// Its name on the command line.
            pub fn name(self) -> &'static str {
                $rows[self as usize].1
            }

            /// What it does, in a line (the `--help` text).
            pub fn describe(self) -> &'static str {
                $rows[self as usize].2
            }

            /// The value called `name` on the command line.
            pub fn from_name(name: &str) -> Option<$type> {
                $type::ALL.into_iter().find(|v| v.name() == name)
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

pub(super) use named;
