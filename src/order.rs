//! The order of an apply's PUTs: pure, no I/O.
//!
//! A number may be answered by at most one inbound agent, and a server may refuse a claim
//! while the old owner still holds the number. So a PUT that makes an agent the inbound owner
//! of a number (a *claim*) runs only after every PUT that takes the number away from its
//! current inbound owner (a *release*). Moves are ordered by these dependencies; a cycle (two
//! inbound agents swapping numbers, or a rotation A→B→C→A) is broken by one intermediate PUT
//! that makes one agent of the cycle drop the numbers it is losing, before it claims its new
//! ones. Steps that do not depend on each other may run concurrently.
//!
//! Only agents that change can block a claim: an agent that keeps a number inbound while
//! another claims it would be a conflict in the end state, which `resolve` rejects.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{Direction, PhoneId};
use crate::plan::types::{Change, DesiredCalling, Step, StepKind};

/// Orders the changes' PUTs. Each change gets exactly one final step, and a cycle of claims
/// one extra release step; the steps come in an order that is safe to run one by one, and
/// each step's `after` lists what it must wait for when run concurrently.
pub fn order(changes: &[Change]) -> Vec<Step> {
    let mut state = Ordering::new(changes);
    while !state.pending.is_empty() {
        let ready: Vec<usize> = state
            .pending
            .iter()
            .copied()
            .filter(|&i| state.blockers(i).is_empty())
            .collect();
        if ready.is_empty() {
            state.break_cycle();
            continue;
        }
        for i in ready {
            let target = changes[i].after.clone();
            state.emit(i, StepKind::Final, target);
            state.holding[i] = state.wanted[i].clone();
            state.pending.remove(&i);
        }
    }
    state.steps
}

/// The ordering in progress: what each changing agent holds as the simulated PUTs go, what
/// it wants, who claims each number, and the steps emitted so far.
struct Ordering {
    /// Current inbound numbers of each changing agent, as the simulated PUTs go.
    holding: Vec<BTreeSet<PhoneId>>,
    /// The inbound numbers each agent ends with.
    wanted: Vec<BTreeSet<PhoneId>>,
    /// Who claims each number: by end-state validity, at most one changing agent.
    claimant: BTreeMap<PhoneId, usize>,
    /// Who holds each number inbound at the start. Holders only ever lose numbers they do
    /// not want (a claim is of a wanted number, which never blocks anyone), so this index,
    /// checked against `holding`, stays enough: no scan of every pending agent per claim.
    initial_holders: HashMap<PhoneId, Vec<usize>>,
    steps: Vec<Step>,
    last_step: Vec<Option<usize>>,
    released_by: BTreeMap<PhoneId, Vec<usize>>,
    pending: BTreeSet<usize>,
}

impl Ordering {
    fn new(changes: &[Change]) -> Ordering {
        let holding: Vec<BTreeSet<PhoneId>> = changes
            .iter()
            .map(|c| match c.before.direction {
                // An agent whose direction the API did not report may well be inbound: count
                // it as holding its numbers, so that a claim waits for it to let them go.
                Some(Direction::Inbound) | None => c.before.phone_ids.clone(),
                Some(Direction::Outbound) => BTreeSet::new(),
            })
            .collect();
        let wanted: Vec<BTreeSet<PhoneId>> =
            changes.iter().map(|c| inbound_set(&c.after)).collect();
        let mut claimant: BTreeMap<PhoneId, usize> = BTreeMap::new();
        for (i, set) in wanted.iter().enumerate() {
            for phone in set.difference(&holding[i]) {
                claimant.insert(phone.clone(), i);
            }
        }
        let mut initial_holders: HashMap<PhoneId, Vec<usize>> = HashMap::new();
        for (j, set) in holding.iter().enumerate() {
            for phone in set {
                initial_holders.entry(phone.clone()).or_default().push(j);
            }
        }
        Ordering {
            holding,
            wanted,
            claimant,
            initial_holders,
            steps: Vec::with_capacity(changes.len()),
            last_step: vec![None; changes.len()],
            released_by: BTreeMap::new(),
            pending: (0..changes.len()).collect(),
        }
    }

    /// The pending agents that block `i`: each holds a number `i` claims and will give it up.
    fn blockers(&self, i: usize) -> BTreeSet<usize> {
        let mut found = BTreeSet::new();
        for phone in self.wanted[i].difference(&self.holding[i]) {
            for &j in self.initial_holders.get(phone).into_iter().flatten() {
                if j != i
                    && self.pending.contains(&j)
                    && self.holding[j].contains(phone)
                    && !self.wanted[j].contains(phone)
                {
                    found.insert(j);
                }
            }
        }
        found
    }

    /// Everything pending waits for something pending: follows the waits-for edges from the
    /// first agent until one repeats, and releases the lowest-indexed agent on that cycle.
    fn break_cycle(&mut self) {
        let mut path: Vec<usize> = Vec::new();
        let mut at = *self.pending.iter().next().unwrap_or(&0);
        let cycle_start = loop {
            if let Some(position) = path.iter().position(|&p| p == at) {
                break position;
            }
            path.push(at);
            at = self.blockers(at).into_iter().next().unwrap_or(at);
        };
        let chosen = path[cycle_start..].iter().copied().min().unwrap_or(at);
        // The chosen agent answers inbound today (it holds what others claim) and has had no
        // step yet (after a release it blocks no one), so its numbers are its inbound ones:
        // it keeps those it will still have and drops the rest.
        let keep: BTreeSet<PhoneId> = self.holding[chosen]
            .intersection(&self.wanted[chosen])
            .cloned()
            .collect();
        let release = DesiredCalling {
            direction: Direction::Inbound,
            phone_ids: keep.clone(),
        };
        self.emit(chosen, StepKind::Release, release);
        self.holding[chosen] = keep;
    }

    /// Appends agent `i`'s step towards `target`, wiring its dependencies.
    fn emit(&mut self, i: usize, kind: StepKind, target: DesiredCalling) {
        let index = self.steps.len();
        let now_inbound = inbound_set(&target);
        let claims: Vec<PhoneId> = now_inbound.difference(&self.holding[i]).cloned().collect();
        let released: Vec<PhoneId> = self.holding[i].difference(&now_inbound).cloned().collect();
        let mut after: BTreeSet<usize> = self.last_step[i].into_iter().collect();
        for phone in &claims {
            after.extend(self.released_by.get(phone).into_iter().flatten().copied());
        }
        let releases_for_others = released
            .iter()
            .filter(|p| self.claimant.get(p).is_some_and(|&c| c != i))
            .cloned()
            .collect();
        for phone in released {
            self.released_by.entry(phone).or_default().push(index);
        }
        self.steps.push(Step {
            change: i,
            kind,
            sends: target,
            after: after.into_iter().collect(),
            claims,
            releases_for_others,
        });
        self.last_step[i] = Some(index);
    }
}

/// The numbers a target answers inbound.
fn inbound_set(target: &DesiredCalling) -> BTreeSet<PhoneId> {
    match target.direction {
        Direction::Inbound => target.phone_ids.clone(),
        Direction::Outbound => BTreeSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::{order, Step, StepKind};
    use crate::model::{AgentId, Direction, PhoneId};
    use crate::plan::{Calling, Change, DesiredCalling};

    /// An agent's settings in a test world: direction and numbers.
    type Settings = (Direction, BTreeSet<PhoneId>);

    fn phone(n: usize) -> PhoneId {
        PhoneId::new(format!("p{n}"))
    }

    fn change(i: usize, before: &Settings, after: &Settings) -> Change {
        Change {
            id: AgentId::new(format!("a{i}")),
            name: format!("agent {i}"),
            source: "test".into(),
            status: None,
            numbers_managed: true,
            before: Calling {
                direction: Some(before.0),
                phone_ids: before.1.clone(),
            },
            after: DesiredCalling {
                direction: after.0,
                phone_ids: after.1.clone(),
            },
        }
    }

    fn inbound_owners(world: &[Settings]) -> BTreeMap<PhoneId, usize> {
        let mut owners: BTreeMap<PhoneId, usize> = BTreeMap::new();
        for (direction, phones) in world {
            if *direction == Direction::Inbound {
                for p in phones {
                    *owners.entry(p.clone()).or_default() += 1;
                }
            }
        }
        owners
    }

    /// Checks every property of `order` on one world, running the steps in the topological
    /// order that `picks` chooses among the ready ones. Returns the number of release steps.
    fn check(current: &[Settings], desired: &[Settings], picks: &[usize]) -> usize {
        let changed: Vec<usize> = (0..current.len())
            .filter(|&i| current[i] != desired[i])
            .collect();
        let changes: Vec<Change> = changed
            .iter()
            .map(|&i| change(i, &current[i], &desired[i]))
            .collect();
        let steps = order(&changes);

        // One final step per change, and dependencies point backwards.
        for c in 0..changes.len() {
            let finals = steps
                .iter()
                .filter(|s| s.change == c && s.kind == StepKind::Final)
                .count();
            assert_eq!(finals, 1, "change {c} has {finals} final steps");
        }
        for (index, step) in steps.iter().enumerate() {
            assert!(step.after.iter().all(|&d| d < index), "{step:?}");
        }

        // Run in a chosen topological order; no state may give a number two inbound owners.
        let mut world = current.to_vec();
        let mut done = vec![false; steps.len()];
        for round in 0..steps.len() {
            let ready: Vec<usize> = (0..steps.len())
                .filter(|&s| !done[s] && steps[s].after.iter().all(|&d| done[d]))
                .collect();
            assert!(!ready.is_empty(), "no step is ready: {steps:?}");
            let pick = ready[picks.get(round).copied().unwrap_or(0) % ready.len()];
            let step: &Step = &steps[pick];
            let agent = changed[step.change];
            world[agent] = (step.sends.direction, step.sends.phone_ids.clone());
            done[pick] = true;
            let owners = inbound_owners(&world);
            for (p, count) in owners {
                assert!(
                    count <= 1,
                    "{p} has {count} inbound owners after step {pick}: {steps:?}"
                );
            }
        }
        assert_eq!(world, desired, "the end state is the desired state");
        steps.len() - changes.len()
    }

    /// Whether the claims among changing agents form a cycle (each agent waits for the
    /// agents holding inbound what it claims inbound and will give up).
    fn has_cycle(current: &[Settings], desired: &[Settings]) -> bool {
        let inbound = |s: &Settings| -> BTreeSet<PhoneId> {
            if s.0 == Direction::Inbound {
                s.1.clone()
            } else {
                BTreeSet::new()
            }
        };
        let n = current.len();
        let waits = |i: usize| -> Vec<usize> {
            let claims: BTreeSet<PhoneId> = inbound(&desired[i])
                .difference(&inbound(&current[i]))
                .cloned()
                .collect();
            (0..n)
                .filter(|&j| {
                    j != i
                        && current[j] != desired[j]
                        && claims.iter().any(|p| {
                            inbound(&current[j]).contains(p) && !inbound(&desired[j]).contains(p)
                        })
                })
                .collect()
        };
        // Depth-first search for a back edge.
        fn visit(i: usize, waits: &dyn Fn(usize) -> Vec<usize>, state: &mut [u8]) -> bool {
            state[i] = 1;
            for j in waits(i) {
                if state[j] == 1 || (state[j] == 0 && visit(j, waits, state)) {
                    return true;
                }
            }
            state[i] = 2;
            false
        }
        let mut state = vec![0u8; n];
        (0..n).any(|i| state[i] == 0 && visit(i, &waits, &mut state))
    }

    /// A world from bit masks, made valid: each number keeps only its first inbound owner,
    /// in the current state and in the desired state alike.
    fn world(spec: &[(bool, u16, bool, u16)], numbers: usize) -> (Vec<Settings>, Vec<Settings>) {
        let settings = |inbound: bool, mask: u16| -> Settings {
            let direction = if inbound {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            let phones = (0..numbers)
                .filter(|b| mask & (1 << b) != 0)
                .map(phone)
                .collect();
            (direction, phones)
        };
        let valid = |mut list: Vec<Settings>| {
            let mut taken = BTreeSet::new();
            for (direction, phones) in &mut list {
                if *direction == Direction::Inbound {
                    phones.retain(|p| taken.insert(p.clone()));
                }
            }
            list
        };
        let current = valid(spec.iter().map(|s| settings(s.0, s.1)).collect());
        let desired = valid(spec.iter().map(|s| settings(s.2, s.3)).collect());
        (current, desired)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_valid_world_converges_safely(
            spec in prop::collection::vec((any::<bool>(), any::<u16>(), any::<bool>(), any::<u16>()), 1..8),
            numbers in 1usize..9,
            picks in prop::collection::vec(any::<usize>(), 0..32),
        ) {
            let (current, desired) = world(&spec, numbers);
            let releases = check(&current, &desired, &picks);
            if !has_cycle(&current, &desired) {
                prop_assert_eq!(releases, 0, "no extra PUT where there is no cycle");
            } else {
                prop_assert!(releases >= 1);
            }
        }

        /// Each inbound agent holds one number and gets another agent's: a permutation. The
        /// extra PUTs are exactly one per cycle of the permutation.
        #[test]
        fn a_permutation_of_numbers_costs_one_extra_put_per_cycle(
            permutation in Just((0..7usize).collect::<Vec<_>>()).prop_shuffle(),
            picks in prop::collection::vec(any::<usize>(), 0..32),
        ) {
            let current: Vec<Settings> = (0..7)
                .map(|i| (Direction::Inbound, [phone(i)].into_iter().collect()))
                .collect();
            let desired: Vec<Settings> = (0..7)
                .map(|i| (Direction::Inbound, [phone(permutation[i])].into_iter().collect()))
                .collect();
            let mut seen = [false; 7];
            let mut cycles = 0;
            for start in 0..7 {
                if seen[start] || permutation[start] == start {
                    continue;
                }
                cycles += 1;
                let mut at = start;
                while !seen[at] {
                    seen[at] = true;
                    at = permutation[at];
                }
            }
            prop_assert_eq!(check(&current, &desired, &picks), cycles);
        }
    }

    fn set(list: &[usize]) -> BTreeSet<PhoneId> {
        list.iter().map(|&n| phone(n)).collect()
    }

    use Direction::{Inbound, Outbound};

    #[test]
    fn a_move_between_inbound_agents_releases_first_without_an_extra_put() {
        // a0 gives p1 to a1 (a1 sorts first in the plan, yet runs second).
        let changes = [
            change(1, &(Inbound, set(&[])), &(Inbound, set(&[1]))),
            change(0, &(Inbound, set(&[1])), &(Inbound, set(&[]))),
        ];
        let steps = order(&changes);
        assert_eq!(steps.len(), 2);
        assert_eq!((steps[0].change, steps[0].kind), (1, StepKind::Final));
        assert_eq!(steps[0].releases_for_others, [phone(1)]);
        assert_eq!((steps[1].change, steps[1].after.as_slice()), (0, &[0][..]));
        assert_eq!(steps[1].claims, [phone(1)]);
    }

    #[test]
    fn a_swap_costs_exactly_one_release() {
        let changes = [
            change(0, &(Inbound, set(&[1, 9])), &(Inbound, set(&[2, 9]))),
            change(1, &(Inbound, set(&[2])), &(Inbound, set(&[1]))),
        ];
        let steps = order(&changes);
        let kinds: Vec<(usize, StepKind)> = steps.iter().map(|s| (s.change, s.kind)).collect();
        assert_eq!(
            kinds,
            [
                (0, StepKind::Release),
                (1, StepKind::Final),
                (0, StepKind::Final)
            ]
        );
        assert_eq!(steps[0].sends.phone_ids, set(&[9]), "keeps what it keeps");
        assert_eq!(steps[1].after, [0]);
        assert_eq!(steps[2].after, [0, 1]);
    }

    #[test]
    fn independent_changes_have_no_dependencies() {
        let changes = [
            change(0, &(Inbound, set(&[1])), &(Outbound, set(&[1]))),
            change(1, &(Outbound, set(&[2])), &(Outbound, set(&[3]))),
        ];
        let steps = order(&changes);
        assert!(steps.iter().all(|s| s.after.is_empty()), "{steps:?}");
    }
}
