//! The model's folders are layers: `kafka/` (the Kafka model) knows nothing of `run/` (the
//! engine and what reads it), which knows nothing of `teach/` (experiments and lessons), which
//! knows nothing of `replay/` (links, time travel, what-ifs); the files directly in `src/sim`
//! are basics any layer may use. No module imports one from a higher layer, and no modules
//! import each other in a circle. Comments and test modules do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const LAYERS: [&str; 5] = ["", "kafka", "run", "teach", "replay"];

/// Items `crate::sim` re-exports, by the module that defines them.
const ITEMS: [(&str, &str); 11] = [
    ("Sim", "engine"),
    ("SimError", "engine"),
    ("Tp", "ids"),
    ("ConsumerStatus", "consumer"),
    ("Phase", "consumer"),
    ("Event", "event"),
    ("EventKind", "event"),
    ("Scenario", "scenario"),
    ("SimTime", "time"),
    ("Command", "command"),
    ("TimedCommand", "command"),
];

struct Module {
    layer: usize,
    /// Its source without comments and test modules (a module may span a file and a folder).
    code: String,
}

fn strip(source: &str) -> String {
    let source = source.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    source.lines().map(|l| l.split_once("//").map_or(l, |(code, _)| code)).collect::<Vec<_>>().join("\n")
}

fn collect(dir: &Path, layer: usize, module: Option<&str>, out: &mut BTreeMap<String, Module>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("src/sim is readable").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            match module {
                // A folder of a module (log/chunks.rs): part of it.
                Some(m) => collect(&path, layer, Some(m), out),
                None => match LAYERS.iter().position(|l| *l == name) {
                    Some(layer) => collect(&path, layer, None, out),
                    // A module's own folder (kafka/log/).
                    None => collect(&path, layer, Some(&name), out),
                },
            }
        } else if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
            let owner = module.unwrap_or(&name).to_string();
            let code = strip(&std::fs::read_to_string(&path).unwrap());
            let entry = out.entry(owner).or_insert(Module { layer, code: String::new() });
            entry.code.push_str(&code);
        }
    }
}

fn dependencies(modules: &BTreeMap<String, Module>) -> BTreeMap<String, BTreeSet<String>> {
    let resolve = |name: &str| ITEMS.iter().find(|(item, _)| *item == name).map_or(name, |(_, m)| m).to_string();
    modules
        .iter()
        .map(|(name, m)| {
            let mut deps = BTreeSet::new();
            // `crate::sim::x`, or `super::x` for a sibling (module names are unique).
            for prefix in ["crate::sim::", "super::"] {
                let mut rest = m.code.as_str();
                while let Some(i) = rest.find(prefix) {
                    rest = &rest[i + prefix.len()..];
                    let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                        let group = &group[..group.find('}').unwrap_or(group.len())];
                        group.split(',').map(|p| p.trim().split("::").next().unwrap_or_default().trim()).collect()
                    } else {
                        vec![rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default()]
                    };
                    for n in names {
                        let dep = resolve(n);
                        if modules.contains_key(&dep) && dep != *name {
                            deps.insert(dep);
                        }
                    }
                }
            }
            (name.clone(), deps)
        })
        .collect()
}

fn modules() -> BTreeMap<String, Module> {
    let mut modules = BTreeMap::new();
    collect(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sim"), 0, None, &mut modules);
    modules
}

#[test]
fn every_layer_is_where_it_should_be() {
    let modules = modules();
    let layer = |m: &str| LAYERS[modules[m].layer];
    for (m, l) in [("replication", "kafka"), ("consumer", "kafka"), ("engine", "run"), ("lesson", "teach")] {
        assert_eq!(layer(m), l, "{m}");
    }
    assert!(modules.len() > 25, "found {} modules", modules.len());
}

#[test]
fn no_module_imports_from_a_higher_layer() {
    let modules = modules();
    let deps = dependencies(&modules);
    let upward: Vec<String> = deps
        .iter()
        .flat_map(|(m, ds)| ds.iter().map(move |d| (m, d)))
        .filter(|(m, d)| modules[*d].layer > modules[*m].layer)
        .map(|(m, d)| format!("{m} ({}) uses {d} ({})", LAYERS[modules[m].layer], LAYERS[modules[d].layer]))
        .collect();
    assert!(upward.is_empty(), "{upward:#?}");
    // The check sees imports at all: the engine uses the coordinator.
    assert!(deps["engine"].contains("coordinator"));
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let deps = dependencies(&modules());
    // Depth-first search for a back edge.
    fn visit<'a>(
        m: &'a str,
        deps: &'a BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, bool>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(m) {
            Some(true) => return None,
            Some(false) => {
                let start = path.iter().position(|p| *p == m).unwrap_or(0);
                let mut circle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                circle.push(m.to_string());
                return Some(circle);
            }
            None => {}
        }
        state.insert(m, false);
        path.push(m);
        for d in &deps[m] {
            if let Some(c) = visit(d, deps, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(m, true);
        None
    }
    let mut state = BTreeMap::new();
    for m in deps.keys() {
        let circle = visit(m, &deps, &mut state, &mut Vec::new());
        assert!(circle.is_none(), "import circle: {}", circle.unwrap().join(" -> "));
    }
}
