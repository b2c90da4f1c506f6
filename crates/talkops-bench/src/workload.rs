//! The generated environments: the simulator's seed, the config talkops and the peers read,
//! the naive script's own data, and the check that a run converged the simulator's state.

use std::path::Path;

use serde::Deserialize;
use serde_json::json;

/// The numbers of agent `i`: its own, `+1 2xxxxxxxxx`, and for a changing agent the free
/// one it gains, `+1 3xxxxxxxxx`.
fn own_number(i: usize) -> String {
    format!("+1{:010}", 2_000_000_000 + i)
}

fn free_number(i: usize) -> String {
    format!("+1{:010}", 3_000_000_000 + i)
}

fn direction(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        "inbound"
    } else {
        "outbound"
    }
}

/// Writes `seed.json` (every agent holding one number, half inbound, half outbound, plus one
/// free number per changing agent), `agents.yaml` (every agent declared, the first `changes`
/// gaining their free number: no guard trips and no PUT depends on another) and `naive.json`
/// (the naive script's hard-coded ids: each agent's id, direction and number ids as desired).
pub fn write(dir: &Path, size: usize, changes: usize) -> Result<(), String> {
    let mut agents = Vec::with_capacity(size);
    let mut numbers = Vec::with_capacity(size + changes);
    let mut naive = Vec::with_capacity(size);
    let mut config = String::with_capacity(size * 90);
    config.push_str("agents:\n");
    for i in 0..size {
        let direction = direction(i);
        numbers.push(json!({"id": format!("pn-{i}"), "number": own_number(i)}));
        agents.push(json!({
            "id": format!("agent-{i:06}"),
            "name": format!("Agent {i:06}"),
            "direction": direction,
            "phone_number_ids": [format!("pn-{i}")],
        }));
        let mut list = vec![format!("\"{}\"", own_number(i))];
        let mut ids = vec![format!("pn-{i}")];
        if i < changes {
            numbers.push(json!({"id": format!("pn-free-{i}"), "number": free_number(i)}));
            list.push(format!("\"{}\"", free_number(i)));
            ids.push(format!("pn-free-{i}"));
        }
        naive.push(json!({
            "id": format!("agent-{i:06}"),
            "direction": direction,
            "phone_number_ids": ids,
        }));
        config.push_str(&format!(
            "  - name: Agent {i:06}\n    direction: {direction}\n    phone_numbers: [{}]\n",
            list.join(", ")
        ));
    }
    let seed = json!({"agents": agents, "phone_numbers": numbers});
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("seed.json", seed.to_string())?;
    write("naive.json", serde_json::Value::Array(naive).to_string())?;
    write("agents.yaml", config)
}

/// One agent of `GET /_sim/state`, the fields the check reads.
#[derive(Deserialize)]
pub struct AgentState {
    id: String,
    direction: String,
    phone_number_ids: Vec<String>,
}

/// Whether every agent holds what `agents.yaml` declares: the run converged.
pub fn check_converged(state: &[AgentState], size: usize, changes: usize) -> Result<(), String> {
    if state.len() != size {
        return Err(format!(
            "{} agents in the simulator, {size} expected",
            state.len()
        ));
    }
    for agent in state {
        let i: usize = agent
            .id
            .strip_prefix("agent-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("unexpected agent id {}", agent.id))?;
        let mut want = vec![format!("pn-{i}")];
        if i < changes {
            want.push(format!("pn-free-{i}"));
        }
        let mut have = agent.phone_number_ids.clone();
        have.sort();
        want.sort();
        if agent.direction != direction(i) || have != want {
            return Err(format!(
                "agent {} is {} with {:?}, expected {} with {want:?}",
                agent.id,
                agent.direction,
                agent.phone_number_ids,
                direction(i)
            ));
        }
    }
    Ok(())
}
