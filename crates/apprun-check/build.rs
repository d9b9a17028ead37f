//! Embeds the vendored resource schemas (schemas/*.json, the index of every
//! type, SAM's schema) so that the binary needs no data files at run time.
use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("schemas/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut code = String::from(
        "/// (type name, schema text) of every vendored schema.\npub(crate) const SCHEMAS: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable schema");
        // The refresh script writes one-space indented, sorted JSON: the
        // top-level `"typeName"` is the line indented by exactly one space.
        let type_name = text
            .lines()
            .find_map(|l| l.strip_prefix(" \"typeName\": \""))
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{} has no typeName", f.display()));
        let _ = writeln!(
            code,
            "    ({type_name:?}, include_str!({:?})),",
            f.display().to_string()
        );
    }
    code.push_str("];\n");
    // One line per resource type of the vendored regions: the type, a tab,
    // the top level of its schema (scripts/refresh-schemas.sh).
    let _ = writeln!(
        code,
        "pub(crate) const TYPE_SCHEMAS: &str = include_str!({:?});",
        dir.join("resource-schemas.tsv").display().to_string()
    );
    let sam = dir.join("sam").join("sam.schema.json");
    println!("cargo:rerun-if-changed={}", sam.display());
    let _ = writeln!(
        code,
        "pub(crate) const SAM_SCHEMA: &str = include_str!({:?});",
        sam.display().to_string()
    );
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("schemas.rs");
    std::fs::write(out, code).unwrap();
    iam_data();
}

/// The `.json` files of a folder, sorted, as (file stem, path).
fn json_files(dir: &Path) -> Vec<(String, String)> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_owned();
            Some((stem, p.display().to_string()))
        })
        .collect();
    files.sort();
    files
}

/// Embeds the IAM reference data (iam/sar/<prefix>.json, one file per
/// service, parsed only when a check needs that service), the vendored AWS
/// managed policies (iam/managed/<path with + for />.json) and the
/// hand-kept service table (iam/service-data.json).
fn iam_data() {
    let iam = Path::new(env!("CARGO_MANIFEST_DIR")).join("iam");
    let mut code = String::from(
        "/// (service prefix, reference text) of every vendored service.\npub(crate) const SAR: &[(&str, &str)] = &[\n",
    );
    for (stem, path) in json_files(&iam.join("sar")) {
        let _ = writeln!(code, "    ({stem:?}, include_str!({path:?})),");
    }
    code.push_str("];\n/// (policy path after `policy/`, document) of every vendored AWS managed policy.\npub(crate) const MANAGED: &[(&str, &str)] = &[\n");
    for (stem, path) in json_files(&iam.join("managed")) {
        let name = stem.replace('+', "/");
        let _ = writeln!(code, "    ({name:?}, include_str!({path:?})),");
    }
    code.push_str("];\n");
    let data = iam.join("service-data.json");
    println!("cargo:rerun-if-changed={}", data.display());
    let _ = writeln!(
        code,
        "pub(crate) const SERVICE_DATA: &str = include_str!({:?});",
        data.display().to_string()
    );
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("iam.rs");
    std::fs::write(out, code).unwrap();
}
