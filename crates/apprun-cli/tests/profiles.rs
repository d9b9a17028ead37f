//! The build profiles of the workspace's Cargo.toml: `release` lowers the
//! opt-level of some packages to build quickly (issue 17), and `dist`, the
//! profile of shipped binaries, must undo every one of those lowerings and
//! keep the binary stripped. Package overrides are inherited from the
//! profile `dist` inherits, so a new release override without its dist
//! counterpart would ship that package unoptimised: this test names it.

use toml::{Table, Value};

fn workspace_manifest() -> Table {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let text = std::fs::read_to_string(path).expect("the workspace Cargo.toml is readable");
    text.parse().expect("the workspace Cargo.toml is TOML")
}

fn profile<'t>(manifest: &'t Table, name: &str) -> &'t Table {
    manifest["profile"][name]
        .as_table()
        .unwrap_or_else(|| panic!("[profile.{name}] exists"))
}

fn package_overrides(profile: &Table) -> Vec<(String, Table)> {
    profile
        .get("package")
        .and_then(Value::as_table)
        .map(|t| {
            t.iter()
                .map(|(name, v)| (name.clone(), v.as_table().cloned().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// opt-level as written (an integer, or "s"/"z").
fn opt_level(table: &Table) -> Option<String> {
    table.get("opt-level").map(|v| match v {
        Value::Integer(i) => i.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

#[test]
fn dist_restores_every_release_lowering_to_full_optimisation() {
    let manifest = workspace_manifest();
    let release = profile(&manifest, "release");
    let dist = profile(&manifest, "dist");
    assert_eq!(dist["inherits"].as_str(), Some("release"));
    assert_eq!(
        opt_level(dist),
        None,
        "dist takes its opt-level from release"
    );
    assert_eq!(
        opt_level(release),
        None,
        "release keeps the default opt-level 3"
    );

    let dist_overrides = package_overrides(dist);
    let lowered: Vec<String> = package_overrides(release)
        .into_iter()
        .filter(|(_, t)| opt_level(t).is_some_and(|o| o != "3"))
        .map(|(name, _)| name)
        .collect();
    assert!(
        lowered.iter().any(|n| n == "apprun-cli") && lowered.iter().any(|n| n == "cfn-guard"),
        "the release profile lowers apprun's crates and cfn-guard: {lowered:?}"
    );
    let missing: Vec<&String> = lowered
        .iter()
        .filter(|name| {
            !dist_overrides
                .iter()
                .any(|(n, t)| n == *name && opt_level(t).as_deref() == Some("3"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "lowered in [profile.release.package.*] but not set back to opt-level 3 in \
         [profile.dist.package.*]: {missing:?}"
    );
}

#[test]
fn the_binary_is_stripped_in_release_and_dist() {
    // Cargo resets `strip` to its default ("debuginfo") for a package that
    // has an override of its own, whatever the profile says: the apprun
    // binary's override must say it again (measured: `-C strip=debuginfo`
    // reached rustc for apprun-cli until it did).
    let manifest = workspace_manifest();
    for name in ["release", "dist"] {
        let p = profile(&manifest, name);
        let own = package_overrides(p)
            .into_iter()
            .find(|(n, _)| n == "apprun-cli")
            .map(|(_, t)| t);
        let strip = match &own {
            Some(t) if t.contains_key("opt-level") => t.get("strip"),
            _ => p.get("strip"),
        };
        assert_eq!(
            strip.and_then(Value::as_bool),
            Some(true),
            "[profile.{name}]: the apprun binary is built with strip = true"
        );
    }
}
