//! Resolving the declared agents against the live environment: names and ids to agents,
//! numbers and phone ids to the environment's phone ids, and the rules that need live data.
//!
//! Pure: it reads a [`LiveState`] that the API layer built and performs no I/O. Every problem
//! is collected, and any problem means no write at all.

use std::cell::OnceCell;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::desired::{AgentRef, Code, DesiredConfig, Diagnostic, Invalid, NumberRef, Source};
use crate::model::{AgentId, Direction, LiveState, PhoneId};

/// A declared agent, matched to a live agent, with its numbers as phone ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedAgent {
    pub source: Source,
    /// The entry as written (`name:` or `id:`), for messages.
    pub entry: AgentRef,
    pub id: AgentId,
    pub direction: Direction,
    /// `None`: numbers not managed by the config (left as they are).
    pub phone_ids: Option<BTreeSet<PhoneId>>,
}

/// Resolves every declared agent; returns all problems if any entry cannot be resolved or the
/// resolved end state would give a number two inbound agents.
pub fn resolve(config: &DesiredConfig, live: &LiveState) -> Result<Vec<ResolvedAgent>, Invalid> {
    let index = Index::new(live);
    let mut diagnostics = Vec::new();
    let mut resolved = Vec::with_capacity(config.agents.len());
    for declared in &config.agents {
        let problem = |(code, message): (Code, String)| {
            Diagnostic::entry(code, &declared.source, declared.agent.to_string(), message)
        };
        let mut problems = Vec::new();
        let id = index.agent(&declared.agent).map_err(problem);
        let phone_ids = declared
            .phone_numbers
            .as_ref()
            .map(|numbers| index.numbers(numbers, &problem, &mut problems));
        match id {
            Ok(id) if live.unknown_numbers.contains(&id) => problems.push(problem((
                Code::NumbersUnknown,
                format!(
                    "the API did not give the phone numbers of agent {} (no `phone_numbers` in the agent list, nor when the agent was read alone): they are unknown, so talkops cannot plan this agent; try again, or ask Talkover why",
                    describe(live, &id)
                ),
            ))),
            Ok(id) if problems.is_empty() => resolved.push(ResolvedAgent {
                source: declared.source.clone(),
                entry: declared.agent.clone(),
                id,
                direction: declared.direction,
                phone_ids,
            }),
            Ok(_) => {}
            Err(problem) => problems.insert(0, problem),
        }
        diagnostics.extend(problems);
    }
    // The indexes are not needed past this point; the end-state check builds its own.
    drop(index);
    diagnostics.extend(unknown_numbers_that_may_answer(&resolved, live));
    if diagnostics.is_empty() {
        check_resolved(&resolved, live, &mut diagnostics);
    }
    if diagnostics.is_empty() {
        Ok(resolved)
    } else {
        Err(Invalid(diagnostics))
    }
}

/// The live environment indexed for resolution: agents by name, phone ids by number, and
/// both by id. Hashed (at 50,000 agents the ordered maps' string comparisons were a quarter
/// of a plan's CPU), and each index built on first use: a config that names agents only by
/// name never builds the index by id.
struct Index<'a> {
    live: &'a LiveState,
    by_name: OnceCell<HashMap<&'a str, Matches<'a, AgentId>>>,
    by_number: OnceCell<HashMap<&'a str, Matches<'a, PhoneId>>>,
    agent_ids: OnceCell<HashSet<&'a str>>,
    phone_ids: OnceCell<HashSet<&'a str>>,
}

/// What one name or number matches: nearly always one, so no list is allocated for it.
enum Matches<'a, T> {
    One(&'a T),
    Many(Vec<&'a T>),
}

impl<'a, T> Matches<'a, T> {
    fn as_slice(&self) -> &[&'a T] {
        match self {
            Matches::One(one) => std::slice::from_ref(one),
            Matches::Many(all) => all,
        }
    }
}

/// Adds `item` to what `key` matches.
fn add<'a, T>(map: &mut HashMap<&'a str, Matches<'a, T>>, key: &'a str, item: &'a T) {
    match map.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(Matches::One(item));
        }
        Entry::Occupied(mut slot) => {
            let matches = slot.get_mut();
            match matches {
                Matches::One(first) => {
                    let first = *first;
                    *matches = Matches::Many(vec![first, item]);
                }
                Matches::Many(all) => all.push(item),
            }
        }
    }
}

impl<'a> Index<'a> {
    fn new(live: &'a LiveState) -> Index<'a> {
        Index {
            live,
            by_name: OnceCell::new(),
            by_number: OnceCell::new(),
            agent_ids: OnceCell::new(),
            phone_ids: OnceCell::new(),
        }
    }

    fn by_name(&self) -> &HashMap<&'a str, Matches<'a, AgentId>> {
        self.by_name.get_or_init(|| {
            let mut by_name = HashMap::with_capacity(self.live.agents.len());
            for agent in self.live.agents.values() {
                add(&mut by_name, agent.name.as_str(), &agent.id);
            }
            by_name
        })
    }

    fn by_number(&self) -> &HashMap<&'a str, Matches<'a, PhoneId>> {
        self.by_number.get_or_init(|| {
            let mut by_number = HashMap::with_capacity(self.live.phone_numbers.len());
            for (id, number) in &self.live.phone_numbers {
                if let Some(number) = number {
                    add(&mut by_number, number.as_str(), id);
                }
            }
            by_number
        })
    }

    fn has_agent(&self, id: &AgentId) -> bool {
        self.agent_ids
            .get_or_init(|| self.live.agents.keys().map(AgentId::as_str).collect())
            .contains(id.as_str())
    }

    fn has_phone(&self, id: &PhoneId) -> bool {
        self.phone_ids
            .get_or_init(|| {
                self.live
                    .phone_numbers
                    .keys()
                    .map(PhoneId::as_str)
                    .collect()
            })
            .contains(id.as_str())
    }

    /// The live agent an entry names, or what is wrong with the reference.
    fn agent(&self, agent: &AgentRef) -> Result<AgentId, (Code, String)> {
        match agent {
            AgentRef::Id(id) if self.has_agent(id) => Ok(id.clone()),
            AgentRef::Id(_) => Err((
                Code::UnknownAgent,
                "no agent with this id in the environment (or not visible to this token)".into(),
            )),
            AgentRef::Name(name) => {
                match self.by_name().get(name.as_str()).map(Matches::as_slice) {
                    Some([id]) => Ok((*id).clone()),
                    Some(ids) => {
                        let ids: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
                        Err((
                        Code::AmbiguousName,
                        format!(
                            "{} agents in the environment have this name (ids {}): use `id:` to say which",
                            ids.len(),
                            ids.join(", ")
                        ),
                    ))
                    }
                    None => Err((
                        Code::UnknownAgent,
                        "no agent with this name in the environment".into(),
                    )),
                }
            }
        }
    }

    /// The phone ids of an entry's numbers; a problem for each one that is not the
    /// environment's, is ambiguous, or repeats another.
    fn numbers(
        &self,
        numbers: &[NumberRef],
        problem: &dyn Fn((Code, String)) -> Diagnostic,
        problems: &mut Vec<Diagnostic>,
    ) -> BTreeSet<PhoneId> {
        let mut ids = BTreeSet::new();
        let mut written_as: BTreeMap<PhoneId, &NumberRef> = BTreeMap::new();
        for number in numbers {
            let found = match self.number(number) {
                Ok(found) => found,
                Err(found) => {
                    problems.push(problem(found));
                    continue;
                }
            };
            if let Some(first) = written_as.get(&found) {
                problems.push(problem((
                    Code::DuplicateNumber,
                    format!("{number} and {first} are the same phone number: list it once"),
                )));
            } else {
                written_as.insert(found.clone(), number);
                ids.insert(found);
            }
        }
        ids
    }

    /// The phone id of one number, or what is wrong with it.
    fn number(&self, number: &NumberRef) -> Result<PhoneId, (Code, String)> {
        match number {
            NumberRef::Number(e164) => {
                match self.by_number().get(e164.as_str()).map(Matches::as_slice) {
                    Some([id]) => Ok((*id).clone()),
                    Some(_) => Err((
                        Code::AmbiguousNumber,
                        format!(
                            "{number} appears more than once in the environment's phone numbers: use its phone number id"
                        ),
                    )),
                    None => Err((
                        Code::UnknownNumber,
                        format!("{number} is not one of the environment's phone numbers"),
                    )),
                }
            }
            NumberRef::Id(id) if self.has_phone(id) => Ok(id.clone()),
            NumberRef::Id(id) => {
                let hint = if id.as_str().bytes().all(|b| b.is_ascii_digit()) {
                    " (an E.164 number starts with +)"
                } else {
                    ""
                };
                Err((
                    Code::UnknownNumber,
                    format!("{number} is not one of the environment's phone numbers{hint}"),
                ))
            }
        }
    }
}

/// An agent the config does not manage, whose numbers are unknown and which may answer
/// calls: whether a claim would give one of its numbers a second inbound agent, or take one
/// off the air, cannot be judged.
fn unknown_numbers_that_may_answer(
    resolved: &[ResolvedAgent],
    live: &LiveState,
) -> Vec<Diagnostic> {
    if live.unknown_numbers.is_empty() {
        return Vec::new();
    }
    let declared: HashSet<&AgentId> = resolved.iter().map(|a| &a.id).collect();
    live.unknown_numbers
        .iter()
        .filter_map(|id| live.agents.get(id))
        .filter(|agent| !declared.contains(&agent.id) && agent.may_answer())
        .map(|agent| {
            Diagnostic::environment(
                Code::NumbersUnknown,
                format!(
                    "agent {} (direction {}, not managed by this config) was listed without its phone numbers, and reading it alone did not give them either: talkops cannot tell which numbers it answers, so no plan is safe; try again, or ask Talkover why",
                    describe(live, &agent.id),
                    agent.direction_shown()
                ),
            )
        })
        .collect()
}

/// The resolved agents that `--target` names (by id, or by the live agent's name); all of
/// them when `targets` is empty. A target that matches no declared agent is an error, and so
/// is an end state that, with the untargeted agents left at their live settings, would give
/// a number two inbound agents.
pub fn select_targets(
    resolved: Vec<ResolvedAgent>,
    live: &LiveState,
    targets: &[String],
) -> Result<Vec<ResolvedAgent>, TargetError> {
    if targets.is_empty() {
        return Ok(resolved);
    }
    let matches = |agent: &ResolvedAgent, target: &str| {
        agent.id.as_str() == target || live.agents.get(&agent.id).is_some_and(|a| a.name == target)
    };
    let unknown: Vec<String> = targets
        .iter()
        .filter(|t| !resolved.iter().any(|a| matches(a, t)))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(TargetError::Unknown(unknown));
    }
    let selected: Vec<ResolvedAgent> = resolved
        .into_iter()
        .filter(|a| targets.iter().any(|t| matches(a, t)))
        .collect();
    // The untargeted agents stay as they are; a targeted claim on a number one of them was
    // to release would leave it with two inbound agents.
    check_end_state(&selected, live).map_err(TargetError::EndState)?;
    Ok(selected)
}

/// Why `--target` cannot be honoured.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("--target {} matches no agent declared in the config (give a declared agent's name or id)", .0.join(", --target "))]
    Unknown(Vec<String>),
    #[error("with --target, the agents not targeted keep their live settings: {0}")]
    EndState(Invalid),
}

/// `"Name" (id X)` of a live agent.
fn describe(live: &LiveState, id: &AgentId) -> String {
    live.agents
        .get(id)
        .map(|a| crate::model::agent_label(&a.name, id))
        .unwrap_or_else(|| format!("id {id}"))
}

/// Checks the end-state rules again for a subset of the resolved agents (with `--target`, the
/// others stay as they are live, which can make a conflict the whole config would not).
pub fn check_end_state(resolved: &[ResolvedAgent], live: &LiveState) -> Result<(), Invalid> {
    let mut diagnostics = Vec::new();
    check_resolved(resolved, live, &mut diagnostics);
    if diagnostics.is_empty() {
        Ok(())
    } else {
        Err(Invalid(diagnostics))
    }
}

/// Rules on the resolved end state: one agent declared twice under two spellings (name and
/// id), and a number left with two inbound agents, counting the agents the config does not
/// manage and the declared agents whose numbers it leaves alone.
fn check_resolved(resolved: &[ResolvedAgent], live: &LiveState, diagnostics: &mut Vec<Diagnostic>) {
    let declared = match declared_once(resolved, live) {
        Ok(declared) => declared,
        Err(problems) => {
            diagnostics.extend(problems);
            return;
        }
    };
    diagnostics.extend(inbound_conflicts(&declared, live));
}

/// The resolved agents by id (looked up, never iterated: hashed).
type Declared<'a> = HashMap<&'a AgentId, &'a ResolvedAgent>;

/// The resolved agents by id, or a problem for each agent declared twice under two
/// spellings (name and id).
fn declared_once<'a>(
    resolved: &'a [ResolvedAgent],
    live: &LiveState,
) -> Result<Declared<'a>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut declared: Declared<'a> = HashMap::with_capacity(resolved.len());
    for agent in resolved {
        if let Some(first) = declared.get(&agent.id) {
            problems.push(Diagnostic::entry(
                Code::DuplicateAgent,
                &agent.source,
                agent.entry.to_string(),
                format!(
                    "is agent {}, which {} at {} declares too: declare each agent once",
                    describe(live, &agent.id),
                    first.entry,
                    first.source
                ),
            ));
        } else {
            declared.insert(&agent.id, agent);
        }
    }
    if problems.is_empty() {
        Ok(declared)
    } else {
        Err(problems)
    }
}

/// Another owner of a conflicting number, with how it comes to own it.
fn other_owner(declared: &Declared<'_>, live: &LiveState, id: &AgentId) -> String {
    let how = match (declared.get(id), live.agents.get(id)) {
        (Some(other), _) => format!("declared at {}", other.source),
        (None, Some(agent)) if agent.direction.is_none() => format!(
            "not managed by this config; its direction is {}, so it may answer it",
            agent.direction_shown()
        ),
        (None, _) => "not managed by this config".to_owned(),
    };
    format!("{} ({how})", describe(live, id))
}

/// A number left with two inbound agents in the end state, counting the agents the config
/// does not manage and the declared agents whose numbers it leaves alone.
fn inbound_conflicts(declared: &Declared<'_>, live: &LiveState) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let entry_of = |agent: &ResolvedAgent| agent.entry.to_string();
    // The end state: declared agents as declared, every other agent as it is. An agent
    // whose direction talkops does not know may answer its numbers, so it counts as an
    // inbound owner here (failing closed).
    let routing = live.routing();
    // Hashed while counting (every number is looked up), ordered only for the numbers
    // shared, so that the problems come in number order.
    let mut inbound_owners: HashMap<&str, Matches<AgentId>> = HashMap::new();
    for agent in live.agents.values() {
        let (may_answer, phones) = match declared.get(&agent.id) {
            Some(d) => (
                d.direction == Direction::Inbound,
                d.phone_ids.as_ref().unwrap_or(&agent.phone_ids),
            ),
            None => (agent.may_answer(), &agent.phone_ids),
        };
        if may_answer {
            for phone in phones {
                add(&mut inbound_owners, phone.as_str(), &agent.id);
            }
        }
    }
    let shared: BTreeMap<&str, Vec<&AgentId>> = inbound_owners
        .into_iter()
        .filter_map(|(phone, owners)| match owners {
            Matches::One(_) => None,
            Matches::Many(owners) => Some((phone, owners)),
        })
        .collect();
    for (phone, owners) in shared {
        let phone = &PhoneId::new(phone);
        // A conflict the environment already has is this config's concern only if the config
        // asserts it: an entry that lists the number, or an owner that becomes inbound now.
        let asserted = owners.iter().any(|id| {
            declared
                .get(id)
                .and_then(|d| d.phone_ids.as_ref())
                .is_some_and(|ids| ids.contains(phone))
        });
        let new = owners
            .iter()
            .any(|id| !routing.answerers(phone).iter().any(|a| a.id == **id));
        if !asserted && !new {
            continue;
        }
        // Report at a declared owner that claims the number, naming every other owner.
        let Some(claimant) = owners
            .iter()
            .filter_map(|id| declared.get(id))
            .find(|d| d.phone_ids.is_some())
            .or_else(|| owners.iter().find_map(|id| declared.get(id)))
        else {
            continue; // only undeclared agents share it: not this config's doing
        };
        let others: Vec<String> = owners
            .iter()
            .filter(|id| **id != &claimant.id)
            .map(|id| other_owner(declared, live, id))
            .collect();
        diagnostics.push(Diagnostic::entry(
            Code::InboundConflict,
            &claimant.source,
            entry_of(claimant),
            format!(
                "number {} would also be answered by inbound agent {}: an inbound number must have one inbound agent",
                live.label(phone),
                others.join(", ")
            ),
        ));
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Source;
    use crate::model::LiveAgent;

    fn live(agents: &[(&str, &str, Direction, &[&str])]) -> LiveState {
        let mut state = LiveState::default();
        for (id, name, direction, phones) in agents {
            state.agents.insert(
                AgentId::new(*id),
                LiveAgent {
                    id: AgentId::new(*id),
                    name: (*name).into(),
                    direction: Some(*direction),
                    direction_text: None,
                    status: None,
                    phone_ids: phones.iter().map(|p| PhoneId::new(*p)).collect(),
                },
            );
        }
        state
    }

    fn resolved(id: &str, direction: Direction, phones: &[&str]) -> ResolvedAgent {
        ResolvedAgent {
            source: Source {
                file: "a.yaml".into(),
                line: Some(2),
            },
            entry: AgentRef::Id(AgentId::new(id)),
            id: AgentId::new(id),
            direction,
            phone_ids: Some(phones.iter().map(|p| PhoneId::new(*p)).collect()),
        }
    }

    #[test]
    fn targets_select_by_id_or_name_and_unknown_ones_are_named() {
        let state = live(&[
            ("a", "Alpha", Direction::Outbound, &[]),
            ("b", "Beta", Direction::Outbound, &[]),
        ]);
        let all = vec![
            resolved("a", Direction::Outbound, &[]),
            resolved("b", Direction::Inbound, &[]),
        ];
        let ids = |list: Vec<ResolvedAgent>| -> Vec<String> {
            list.into_iter().map(|a| a.id.to_string()).collect()
        };
        let pick = |targets: &[&str]| {
            let targets: Vec<String> = targets.iter().map(|t| (*t).to_owned()).collect();
            select_targets(all.clone(), &state, &targets)
        };
        assert_eq!(ids(pick(&[]).expect("all")), ["a", "b"]);
        assert_eq!(ids(pick(&["Beta"]).expect("by name")), ["b"]);
        assert_eq!(ids(pick(&["a"]).expect("by id")), ["a"]);
        match pick(&["a", "Nobody", "zz"]) {
            Err(TargetError::Unknown(unknown)) => assert_eq!(unknown, ["Nobody", "zz"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_target_claiming_what_an_untargeted_agent_keeps_is_refused() {
        // a answers p1 today and is to release it to b; only b is targeted, so a keeps it.
        let state = live(&[
            ("a", "Alpha", Direction::Inbound, &["p1"]),
            ("b", "Beta", Direction::Outbound, &[]),
        ]);
        let all = vec![
            resolved("a", Direction::Inbound, &[]),
            resolved("b", Direction::Inbound, &["p1"]),
        ];
        assert!(select_targets(all.clone(), &state, &[]).is_ok());
        assert!(matches!(
            select_targets(all, &state, &["b".to_owned()]),
            Err(TargetError::EndState(_))
        ));
    }
}
