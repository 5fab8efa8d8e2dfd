//! The crate's folders are layers, and its modules import downwards only, never in a circle.
//!
//! Layers, lowest first: the basics directly in `src/sim` (time, text, sorting, JSON, maps) ←
//! `kafka/` (the Kafka model) ← `run/` (the engine and what reads it) ← `teach/` (experiments and
//! lessons) ← `replay/` (links, time travel, what-ifs) ← the page (`ui/`) and the command line
//! (`cli.rs`). No module imports from a higher layer, and no modules import each other in a
//! circle — counted at file level: a file and the folder of its submodules (`consumer.rs` and
//! `consumer/`) are one module, a `mod.rs` is its folder's module.
//!
//! Every way a path is spelled is resolved: `crate::…`, `super::…`, `self::…`, a child module's
//! name, `use` groups nested to any depth, and the re-exports (`pub use`) that give modules and
//! items shorter names (`crate::sim::consumer` for `crate::sim::kafka::consumer`). What counts is
//! code: comments, strings and `#[cfg(test)]` modules do not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first, by the first segments of a module's path.
fn layer_of(module: &[String]) -> usize {
    match module.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["sim", "kafka", ..] => 1,
        ["sim", "run", ..] => 2,
        ["sim", "teach", ..] => 3,
        ["sim", "replay", ..] => 4,
        ["ui", ..] | ["cli", ..] | [] => 5,
        _ => 0, // the basics, and `sim` itself (its facade of re-exports)
    }
}

const LAYER_NAMES: [&str; 6] = ["basics", "kafka", "run", "teach", "replay", "page and command line"];

// ----- reading Rust just enough ---------------------------------------------------------------

/// The source with comments, string and character literals blanked out and `#[cfg(test)]`
/// modules removed.
fn code_of(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_char(prev(&chars, i)) {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}'), or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    without_test_modules(&out)
}

fn prev(chars: &[char], i: usize) -> char {
    if i == 0 {
        ' '
    } else {
        chars[i - 1]
    }
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Removes each `#[cfg(test)] mod name { … }` (comments and strings are gone already).
fn without_test_modules(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = rest[at + "#[cfg(test)]".len()..].trim_start();
        let is_mod = after.starts_with("mod ") || after.starts_with("pub mod ");
        if !is_mod {
            out.push_str(&rest[..at + 1]);
            rest = &rest[at + 1..];
            continue;
        }
        out.push_str(&rest[..at]);
        let body = &rest[rest.len() - after.len()..];
        let Some(open) = body.find(['{', ';']) else { return out };
        if body.as_bytes()[open] == b';' {
            rest = &body[open + 1..];
            continue;
        }
        let mut depth = 0;
        let mut end = body.len();
        for (k, ch) in body[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &body[end..];
    }
    out.push_str(rest);
    out
}

/// A path as written, and whether it was written in a `use` declaration (there a first segment
/// may name a child module) or a `pub use` (a re-export).
#[derive(Debug)]
struct Written {
    segments: Vec<String>,
    in_use: bool,
    public: bool,
}

/// Every path in `code` that starts with `crate`, `super` or `self`, and every path of a `use`
/// declaration — each `use` group expanded into its paths.
fn paths_in(code: &str) -> Vec<Written> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        if !ident_char(prev_byte(bytes, i)) && !prev_is_path_sep(bytes, i) {
            let rest = &code[i..];
            let keyword = |k: &str| rest.starts_with(k) && !rest[k.len()..].starts_with(|c: char| ident_char(c));
            if keyword("use") || keyword("pub") {
                // `use a::{b, c::{d}};`, `pub use …`, `pub(crate) use …`.
                let public = keyword("pub");
                let mut j = i;
                if public {
                    j += 3;
                    let t = code[j..].trim_start();
                    j = code.len() - t.len();
                    if t.starts_with('(') {
                        j += t.find(')').map_or(t.len(), |k| k + 1);
                    }
                    let t = code[j..].trim_start();
                    j = code.len() - t.len();
                    if !t.starts_with("use") || t[3..].starts_with(|c: char| ident_char(c)) {
                        i += 1;
                        continue;
                    }
                }
                let start = j + 3;
                let end = code[start..].find(';').map_or(code.len(), |k| start + k);
                let tree = &code[start..end];
                let well_formed = tree.starts_with(char::is_whitespace)
                    && tree.chars().all(|c| ident_char(c) || c.is_whitespace() || ":{},*".contains(c));
                if !well_formed {
                    i += 1; // not a `use` declaration (an SVG <use> in a view, say)
                    continue;
                }
                for segments in expand(tree) {
                    found.push(Written { segments, in_use: true, public });
                }
                i = end;
                continue;
            }
            if keyword("crate") || keyword("super") || keyword("self") {
                let (segments, end) = path_at(code, i);
                if segments.len() > 1 {
                    found.push(Written { segments, in_use: false, public: false });
                }
                i = end.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    found
}

/// The path starting at `i` (`a :: b::c`), and where it ends.
fn path_at(code: &str, mut i: usize) -> (Vec<String>, usize) {
    let mut segments = Vec::new();
    loop {
        let rest = &code[i..];
        let len = rest.find(|c: char| !ident_char(c)).unwrap_or(rest.len());
        if len == 0 {
            break;
        }
        segments.push(rest[..len].to_string());
        i += len;
        let after = code[i..].trim_start();
        if !after.starts_with("::") {
            break;
        }
        let next = after[2..].trim_start();
        if !next.starts_with(|c: char| ident_char(c)) {
            break;
        }
        i = code.len() - next.len();
    }
    (segments, i)
}

fn prev_byte(bytes: &[u8], i: usize) -> char {
    if i == 0 {
        ' '
    } else {
        bytes[i - 1] as char
    }
}

fn prev_is_path_sep(bytes: &[u8], i: usize) -> bool {
    i >= 2 && &bytes[i - 2..i] == b"::"
}

/// The paths of a `use` tree: `a::{b, c::{d, e as f}, self}` → a::b, a::c::d, a::c::e, a.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let (head, group) = match (tree.find('{'), tree.rfind('}')) {
        (Some(open), Some(close)) if close > open => (&tree[..open], Some(&tree[open + 1..close])),
        _ => (tree, None),
    };
    let head: Vec<String> = head
        .split("::")
        .map(|s| s.split(" as ").next().unwrap_or_default().trim().to_string())
        .filter(|s| !s.is_empty() && s != "*")
        .collect();
    let Some(group) = group else { return vec![head] };
    let mut paths = Vec::new();
    let (mut depth, mut from) = (0, 0);
    let parts = group.char_indices().filter_map(|(k, ch)| {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let part = &group[from..k];
                from = k + 1;
                return Some(part);
            }
            _ => {}
        }
        None
    });
    let mut parts: Vec<&str> = parts.collect();
    parts.push(&group[from..]);
    for part in parts.into_iter().filter(|p| !p.trim().is_empty()) {
        for tail in expand(part) {
            let mut p = head.clone();
            p.extend(tail.into_iter().filter(|s| s != "self"));
            paths.push(p);
        }
    }
    paths
}

// ----- the crate's modules ----------------------------------------------------------------------

/// One source file: the module path it declares (`sim::kafka::consumer::modern`), the module it
/// counts as (`sim::kafka::consumer`), and its code.
struct File {
    path: Vec<String>,
    owner: Vec<String>,
    code: String,
}

/// The files of a crate whose root is `lib.rs`, given as (path under `src/`, source).
fn files(sources: &BTreeMap<String, String>) -> Vec<File> {
    let module_path = |file: &str| -> Vec<String> {
        let mut parts: Vec<String> = file.trim_end_matches(".rs").split('/').map(str::to_string).collect();
        if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
            parts.pop();
        }
        parts
    };
    // Modules that are a file of their own (`x.rs`, not `x/mod.rs`): their folder joins them.
    let file_modules: BTreeSet<Vec<String>> =
        sources.keys().filter(|f| !f.ends_with("/mod.rs") && *f != "lib.rs").map(|f| module_path(f)).collect();
    sources
        .iter()
        .filter(|(f, _)| *f != "main.rs")
        .map(|(f, source)| {
            let path = module_path(f);
            let owner = (1..=path.len())
                .map(|n| path[..n].to_vec())
                .find(|prefix| file_modules.contains(prefix) && prefix.len() < path.len())
                .unwrap_or_else(|| path.clone());
            File { path, owner, code: code_of(source) }
        })
        .collect()
}

/// What each module imports: the modules its paths resolve to, re-exports followed.
fn dependencies(files: &[File]) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.path.clone()).collect();
    let owner: BTreeMap<&Vec<String>, &Vec<String>> = files.iter().map(|f| (&f.path, &f.owner)).collect();

    // Absolute paths, as written in `file`; `names` are the modules and re-exported names a
    // `use` may start from.
    let absolute = |file: &File, w: &Written, names: &BTreeSet<Vec<String>>| -> Option<Vec<String>> {
        let mut base: Vec<String> = Vec::new();
        let mut segments = w.segments.iter().peekable();
        match segments.peek().map(|s| s.as_str()) {
            Some("crate") => {
                segments.next();
            }
            Some("self") => {
                segments.next();
                base = file.path.clone();
            }
            Some("super") => {
                base = file.path.clone();
                while segments.peek().is_some_and(|s| *s == "super") {
                    segments.next();
                    base.pop()?;
                }
            }
            Some(first) if w.in_use => {
                // `use child::…`: a module (or a name) of this one; else another crate.
                let mut child = file.path.clone();
                child.push(first.to_string());
                if !names.contains(&child) {
                    return None;
                }
                base = file.path.clone();
            }
            _ => return None,
        }
        base.extend(segments.cloned());
        Some(base)
    };

    // Re-exports: `pub use x::y` in module m makes m::y another name for x::y (found again
    // until no new one appears, as one may re-export another).
    let mut aliases: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for _ in 0..8 {
        let names: BTreeSet<Vec<String>> = modules.iter().chain(aliases.keys()).cloned().collect();
        let before = aliases.len();
        for file in files {
            for w in paths_in(&file.code).iter().filter(|w| w.public && w.in_use) {
                if let (Some(target), Some(name)) = (absolute(file, w, &names), w.segments.last()) {
                    let mut alias = file.path.clone();
                    alias.push(name.clone());
                    if alias != target {
                        aliases.insert(alias, target);
                    }
                }
            }
        }
        if aliases.len() == before {
            break;
        }
    }
    let names: BTreeSet<Vec<String>> = modules.iter().chain(aliases.keys()).cloned().collect();
    let canonical = |mut path: Vec<String>| -> Vec<String> {
        // Replace the longest aliased prefix, as often as one applies.
        for _ in 0..16 {
            let hit = (1..=path.len()).rev().find_map(|n| aliases.get(&path[..n]).map(|t| (n, t.clone())));
            let Some((n, target)) = hit else { break };
            let mut next = target;
            next.extend(path[n..].iter().cloned());
            path = next;
        }
        path
    };
    let module_of = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p))
    };

    let mut deps: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in files {
        let entry = deps.entry(file.owner.clone()).or_default();
        for w in paths_in(&file.code) {
            if w.public && w.in_use && layer_of(&file.path) == 0 && file.path.len() <= 1 {
                continue; // the `sim` facade names what it re-exports; it does not use it
            }
            let Some(path) = absolute(file, &w, &names) else { continue };
            let Some(module) = module_of(&canonical(path)) else { continue };
            let target = owner.get(&module).map_or(module.clone(), |o| (*o).clone());
            if target != file.owner && !target.is_empty() {
                entry.insert(target);
            }
        }
    }
    deps
}

/// Imports from a higher layer, as "a (kafka) uses b (run)".
fn upward(deps: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<String> {
    deps.iter()
        .flat_map(|(m, ds)| ds.iter().map(move |d| (m, d)))
        .filter(|(m, d)| layer_of(d) > layer_of(m))
        .map(|(m, d)| {
            format!(
                "{} ({}) uses {} ({})",
                m.join("::"),
                LAYER_NAMES[layer_of(m)],
                d.join("::"),
                LAYER_NAMES[layer_of(d)]
            )
        })
        .collect()
}

/// A circle of imports, if there is one.
fn circle(deps: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    fn visit<'a>(
        m: &'a Vec<String>,
        deps: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<&'a Vec<String>, bool>,
        path: &mut Vec<&'a Vec<String>>,
    ) -> Option<Vec<String>> {
        match state.get(m) {
            Some(true) => return None,
            Some(false) => {
                let start = path.iter().position(|p| *p == m).unwrap_or(0);
                let mut circle: Vec<String> = path[start..].iter().map(|s| s.join("::")).collect();
                circle.push(m.join("::"));
                return Some(circle);
            }
            None => {}
        }
        state.insert(m, false);
        path.push(m);
        for d in deps.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, deps, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(m, true);
        None
    }
    let mut state = BTreeMap::new();
    deps.keys().find_map(|m| visit(m, deps, &mut state, &mut Vec::new()))
}

fn read_src(dir: &Path, under: &str, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let rel = if under.is_empty() { name.clone() } else { format!("{under}/{name}") };
        if path.is_dir() {
            read_src(&path, &rel, out);
        } else if name.ends_with(".rs") {
            out.insert(rel, std::fs::read_to_string(&path).unwrap());
        }
    }
}

fn the_crate() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut sources = BTreeMap::new();
    read_src(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut sources);
    dependencies(&files(&sources))
}

fn m(path: &str) -> Vec<String> {
    path.split("::").map(str::to_string).collect()
}

// ----- the crate ---------------------------------------------------------------------------------

#[test]
fn no_module_imports_from_a_higher_layer() {
    let deps = the_crate();
    assert!(deps.len() > 60, "found {} modules", deps.len());
    let up = upward(&deps);
    assert!(up.is_empty(), "{up:#?}");
    // The check sees imports however they are spelled.
    assert!(deps[&m("sim::run::engine")].contains(&m("sim::kafka::coordinator")));
    assert!(deps[&m("sim::kafka::consumer")].contains(&m("sim::kafka::conn")), "a pub use of a flat alias");
    assert!(deps[&m("ui")].iter().any(|d| d.starts_with(&m("sim::replay"))));
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let mut deps = the_crate();
    // Every circle, one at a time (an edge of each found is left out to find the next).
    let mut circles = Vec::new();
    while let Some(c) = circle(&deps) {
        let (from, to) = (m(&c[c.len() - 2]), m(&c[c.len() - 1]));
        deps.get_mut(&from).unwrap().remove(&to);
        circles.push(c.join(" -> "));
    }
    assert!(circles.is_empty(), "import circles:\n{}", circles.join("\n"));
}

// ----- the check itself, on small made-up crates -------------------------------------------------

fn check(files_: &[(&str, &str)]) -> (Vec<String>, Option<Vec<String>>) {
    let sources: BTreeMap<String, String> = files_.iter().map(|(f, s)| (f.to_string(), s.to_string())).collect();
    let deps = dependencies(&files(&sources));
    (upward(&deps), circle(&deps))
}

const FACADE: &str = "pub mod kafka; pub mod run; pub use kafka::{a, b}; pub use run::engine; pub use engine::Sim;";

#[test]
fn an_upward_import_is_found_however_it_is_spelled() {
    for spelling in [
        "use crate::sim::run::engine::Sim;",
        "use crate::sim::engine::Sim;",
        "use crate::sim::Sim;",
        "use crate::sim::{time, run::{engine::{self, Sim}}};",
        "use super::super::run::engine;",
        "fn f() -> crate::sim::Sim { todo!() }",
        "fn f() { let _ = crate::sim::run::engine::new(); }",
    ] {
        let (up, _) = check(&[
            ("lib.rs", "pub mod sim;"),
            ("sim/mod.rs", FACADE),
            ("sim/time.rs", ""),
            ("sim/kafka/mod.rs", "pub mod a; pub mod b;"),
            ("sim/kafka/a.rs", spelling),
            ("sim/kafka/b.rs", ""),
            ("sim/run/mod.rs", "pub mod engine;"),
            ("sim/run/engine.rs", "use crate::sim::a; pub struct Sim;"),
        ]);
        assert_eq!(up, ["sim::kafka::a (kafka) uses sim::run::engine (run)"], "{spelling}");
    }
}

#[test]
fn what_is_not_code_does_not_count() {
    let (up, circle) = check(&[
        ("lib.rs", "pub mod sim;"),
        ("sim/mod.rs", FACADE),
        ("sim/kafka/mod.rs", "pub mod a; pub mod b;"),
        (
            "sim/kafka/a.rs",
            "// use crate::sim::run::engine;\n/* crate::sim::engine::Sim */\nconst S: &str = \"crate::sim::Sim\";\nconst R: &str = r#\"use crate::sim::engine;\"#;\nfn f<'a>(x: &'a str) -> char { '\"' }\n#[cfg(test)]\nmod tests {\n    use crate::sim::run::engine::Sim;\n}\n",
        ),
        ("sim/kafka/b.rs", ""),
        ("sim/run/mod.rs", "pub mod engine;"),
        ("sim/run/engine.rs", "use crate::sim::a;"),
    ]);
    assert!(up.is_empty() && circle.is_none(), "{up:?} {circle:?}");
}

#[test]
fn a_circle_is_found_at_file_level_a_file_and_its_folder_counting_as_one() {
    let (up, found) = check(&[
        ("lib.rs", "pub mod sim;"),
        ("sim/mod.rs", FACADE),
        ("sim/kafka/mod.rs", "pub mod a; pub mod b;"),
        ("sim/kafka/a.rs", "mod inner;"),
        // a's submodule uses b, and b uses a: a circle between a (with its folder) and b.
        ("sim/kafka/a/inner.rs", "use super::super::b::X;"),
        ("sim/kafka/b.rs", "use crate::sim::a::Y; pub struct X;"),
        ("sim/run/mod.rs", "pub mod engine;"),
        ("sim/run/engine.rs", ""),
    ]);
    assert!(up.is_empty());
    assert_eq!(found.unwrap(), ["sim::kafka::a", "sim::kafka::b", "sim::kafka::a"]);
    // Without b's import there is none; a module's own submodule is no circle.
    let (_, found) = check(&[
        ("lib.rs", "pub mod sim;"),
        ("sim/mod.rs", FACADE),
        ("sim/kafka/mod.rs", "pub mod a; pub mod b;"),
        ("sim/kafka/a.rs", "mod inner; use inner::Z; pub struct Y;"),
        ("sim/kafka/a/inner.rs", "use super::super::b::X; use super::Y; pub struct Z;"),
        ("sim/kafka/b.rs", "pub struct X;"),
        ("sim/run/mod.rs", "pub mod engine;"),
        ("sim/run/engine.rs", ""),
    ]);
    assert!(found.is_none(), "{found:?}");
}
