//! The pure core's own cost: parse + validate + resolve + diff + order for 1,000 to 50,000
//! agents (the last row with 45,000 more numbers in the environment that no agent holds:
//! 100,000 in all), with no network and no process start. `cargo bench --bench core`.
//!
//! A plain timing loop (no harness dependency): each size runs a few times and reports the
//! fastest run, which is the least disturbed by the rest of the machine.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use talkops::desired::{parse_sources, SourceFile};
use talkops::model::{AgentId, Direction, LiveAgent, LiveState, PhoneId};

fn environment(size: usize, changes: usize, spare_numbers: usize) -> (LiveState, String) {
    let mut live = LiveState::default();
    for i in 0..spare_numbers {
        live.phone_numbers.insert(
            PhoneId::new(format!("pn-spare-{i}")),
            Some(format!("+1{:010}", 4_000_000_000u64 + i as u64)),
        );
    }
    let mut config = String::from("agents:\n");
    for i in 0..size {
        let direction = if i % 2 == 0 {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        let phone = PhoneId::new(format!("pn-{i}"));
        let number = format!("+1{:010}", 2_000_000_000u64 + i as u64);
        live.phone_numbers
            .insert(phone.clone(), Some(number.clone()));
        let mut list = vec![format!("\"{number}\"")];
        if i < changes {
            let free = format!("+1{:010}", 3_000_000_000u64 + i as u64);
            live.phone_numbers
                .insert(PhoneId::new(format!("pn-free-{i}")), Some(free.clone()));
            list.push(format!("\"{free}\""));
        }
        let id = AgentId::new(format!("agent-{i:06}"));
        live.agents.insert(
            id.clone(),
            LiveAgent {
                id,
                name: format!("Agent {i:06}"),
                direction: Some(direction),
                direction_text: None,
                status: Some("published".into()),
                phone_ids: BTreeSet::from([phone]),
            },
        );
        config.push_str(&format!(
            "  - name: Agent {i:06}\n    direction: {}\n    phone_numbers: [{}]\n",
            direction.as_str(),
            list.join(", ")
        ));
    }
    (live, config)
}

fn main() {
    println!(
        "| agents | numbers | parse + validate | resolve | plan (diff, order, guards) | total |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for (size, spare) in [(1_000, 0), (10_000, 0), (50_000, 0), (50_000, 45_000)] {
        let (live, text) = environment(size, size / 10, spare);
        let numbers = live.phone_numbers.len();
        let files = [SourceFile {
            name: "agents.yaml".into(),
            text,
        }];
        let mut best = [Duration::MAX; 3];
        for _ in 0..5 {
            let started = Instant::now();
            let config = parse_sources(&files).expect("valid config");
            let parsed = started.elapsed();
            let started = Instant::now();
            let resolved = talkops::resolve::resolve(&config, &live).expect("resolves");
            let resolving = started.elapsed();
            let started = Instant::now();
            let plan = talkops::plan::build(
                &resolved,
                resolved.len(),
                &live,
                None,
                talkops::plan::Thresholds::default(),
            );
            let diffing = started.elapsed();
            assert_eq!(plan.changes.len(), size / 10);
            for (slot, took) in best.iter_mut().zip([parsed, resolving, diffing]) {
                *slot = (*slot).min(took);
            }
        }
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        println!(
            "| {size} | {numbers} | {} | {} | {} | {} |",
            ms(best[0]),
            ms(best[1]),
            ms(best[2]),
            ms(best.iter().sum())
        );
    }
}
