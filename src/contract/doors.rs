//! The doors of a failed task: the spec's `doors:` and the requests of the scenarios that send
//! a refused request on a failed task, each a shape that becomes a request on any task. The
//! classifier says each one's kind; one that a conforming server would accept is no door.

use crate::contract::classify::{self, Parts, Site, TaskState};
use crate::contract::request::{Credentials, PathForm, Request, Shape};
use crate::contract::spec::{DoorCredentials, DoorPath, DoorSpec, IdParam, Kind, Spec};
use crate::fixtures::Fixtures;

/// One ID of a door's request, relative to the task it is sent on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Id {
    /// The real one (the run's project or cluster, the chain's task).
    Real,
    /// The real one in capitals.
    Upper,
    /// A well-formed ID that names nothing.
    Unknown,
    /// The configured project of another account.
    Foreign,
    /// A template in which `{id}` is the real ID.
    Template(String),
    /// This text, whatever the task.
    Literal(String),
}

impl Id {
    fn of(value: Option<&str>) -> Id {
        match value {
            None => Id::Real,
            Some("upper") => Id::Upper,
            Some("unknown") => Id::Unknown,
            Some("foreign") => Id::Foreign,
            Some(template) => Id::Template(template.to_owned()),
        }
    }

    fn fill(&self, real: &str, foreign: Option<&str>, unknown: &str) -> String {
        match self {
            Id::Real => real.to_owned(),
            Id::Upper => real.to_ascii_uppercase(),
            Id::Unknown => unknown.to_owned(),
            Id::Foreign => foreign.unwrap_or_default().to_owned(),
            Id::Template(t) => t.replace("{id}", real),
            Id::Literal(text) => text.clone(),
        }
    }
}

/// `id` in capitals, if that is another ID: one without small letters (digits alone) is
/// itself in capitals, and a request that names it so is the plain one.
pub(crate) fn in_capitals(id: &str) -> Option<String> {
    id.bytes()
        .any(|b| b.is_ascii_lowercase())
        .then(|| id.to_ascii_uppercase())
}

/// Where a door comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoorSource {
    /// The spec's `doors:` list.
    Spec,
    /// The request a scenario (`file:line`) sends on its failed task.
    Scenario(String),
}

/// One door: a request shape that a conforming server refuses on a failed task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Door {
    pub name: String,
    pub origin: DoorSource,
    /// The grammar's family it comes from (`dimension/family`), for a door of the spec.
    pub family: Option<String>,
    pub ids: [Id; 3],
    pub method: Option<String>,
    pub retry_mode: Vec<String>,
    pub extra_query: Vec<(String, String)>,
    pub credentials: Credentials,
    /// What of its form the page does not define (the path's shape, a header, a body).
    pub shape: Shape,
    /// The kind the classifier says it is on a failed task.
    pub kind: Kind,
}

/// What the target offers the doors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reach<'a> {
    pub aksk: bool,
    pub foreign_project: Option<&'a str>,
}

impl Door {
    /// The request of this door on `task` of the run's `fixtures`; `unknown` names nothing.
    pub fn request(&self, fixtures: &Fixtures, task: &str, unknown: &str) -> Request {
        let foreign = fixtures.foreign_project_id.as_deref();
        let [p, c, a] = &self.ids;
        Request {
            project_id: p.fill(&fixtures.project_id, foreign, unknown),
            cluster_id: c.fill(&fixtures.cluster_id, foreign, unknown),
            action_id: a.fill(task, foreign, unknown),
            retry_mode: self.retry_mode.clone(),
            extra_query: self.extra_query.clone(),
            credentials: self.credentials,
            method: self.method.clone(),
            shape: self.shape.clone(),
        }
    }

    /// The door a spec entry describes, if the target can send it.
    fn from_spec(spec: &Spec, family: &str, d: &DoorSpec, reach: Reach<'_>) -> Option<Door> {
        if d.auth.as_deref() == Some("aksk") && !reach.aksk {
            return None;
        }
        let ids = [&d.project_id, &d.cluster_id, &d.action_id].map(|v| Id::of(v.as_deref()));
        if ids.contains(&Id::Foreign) && reach.foreign_project.is_none() {
            return None;
        }
        let mut retry_mode = d.retry_mode.clone().unwrap_or_default();
        if let (Some(n), [one]) = (d.repeat, retry_mode.as_mut_slice()) {
            *one = one.repeat(n);
        }
        let mut door = Door {
            name: d.door.clone(),
            origin: DoorSource::Spec,
            family: Some(family.to_owned()),
            ids,
            method: d.method.clone(),
            retry_mode,
            extra_query: Vec::new(),
            credentials: match d.credentials {
                None => Credentials::Valid,
                Some(DoorCredentials::Missing) => Credentials::Missing,
                Some(DoorCredentials::Wrong) => Credentials::Wrong,
                Some(DoorCredentials::TamperedSignature) => Credentials::TamperedSignature,
                Some(DoorCredentials::StaleDate) => Credentials::StaleDate,
            },
            shape: shape_of(d),
            kind: Kind::Retry,
        };
        door.kind = door.classify(spec, reach);
        Some(door)
    }

    /// The door a scenario's request on one of `survey`'s failed tasks is, the survey's IDs
    /// taken as the real ones.
    pub(crate) fn from_scenario(
        spec: &Spec,
        location: &str,
        request: &Request,
        survey: &Fixtures,
        reach: Reach<'_>,
    ) -> Door {
        // The survey's own IDs are the real ones; a well-formed one it does not know is an
        // unknown one (made for that run), any other is the scenario's text.
        let id = |param: IdParam, value: &str, own: &str| {
            let well_formed = spec
                .observed_format(param.name())
                .is_some_and(|re| re.is_match(value));
            if value == own {
                Id::Real
            } else if well_formed && !survey.knows(value) {
                Id::Unknown
            } else {
                Id::Literal(value.to_owned())
            }
        };
        let mut door = Door {
            name: format!("{} ({location})", describe(request, survey)),
            origin: DoorSource::Scenario(location.to_owned()),
            family: None,
            ids: [
                id(IdParam::Project, &request.project_id, &survey.project_id),
                id(IdParam::Cluster, &request.cluster_id, &survey.cluster_id),
                Id::Real,
            ],
            method: request.method.clone(),
            retry_mode: request.retry_mode.clone(),
            extra_query: request.extra_query.clone(),
            credentials: request.credentials,
            shape: request.shape.clone(),
            kind: Kind::Retry,
        };
        door.kind = door.classify(spec, reach);
        door
    }

    /// Its kind on a failed task, as the one classifier says (credentials as a conforming
    /// server judges them).
    fn classify(&self, spec: &Spec, reach: Reach<'_>) -> Kind {
        let mut fixtures = Fixtures::builtin();
        if reach.foreign_project.is_none() {
            fixtures.foreign_project_id = None;
        }
        let task = fixtures.failed_action_ids[0].clone();
        let request = self.request(&fixtures, &task, "00000000-5e57-4000-8000-00000000d00e");
        let state = |id: &str| (id == task).then_some(TaskState::Failed);
        let site = Site {
            project_id: &fixtures.project_id,
            cluster_id: &fixtures.cluster_id,
            task: &state,
        };
        classify::classify(spec, &site, &Parts::of(spec, &request))
    }

    /// Whether a conforming server refuses it (or it is not the operation).
    /// Whether it is a door at all for the run's `fixtures`: an ID in capitals differs from
    /// the plain request only where the ID has small letters (one of digits in capitals is
    /// the ID itself, and the door the plain retry, which a conforming server accepts). For
    /// the task's ID, every failed task must have one.
    pub(crate) fn applies_to(&self, fixtures: &Fixtures) -> bool {
        let differs = |id: &str| in_capitals(id).is_some();
        let [p, c, a] = &self.ids;
        (*p != Id::Upper || differs(&fixtures.project_id))
            && (*c != Id::Upper || differs(&fixtures.cluster_id))
            && (*a != Id::Upper || fixtures.failed_action_ids.iter().all(|t| differs(t)))
    }

    pub(crate) fn is_refused(&self, spec: &Spec) -> bool {
        let e = spec.expectation(self.kind);
        e.not_the_operation || !e.accepts()
    }

    /// Whether `request`, sent on `task`, is this door's.
    pub fn sends(&self, fixtures: &Fixtures, task: &str, request: &Request) -> bool {
        let mine = self.request(fixtures, task, "");
        let same_ids = IdParam::ALL.iter().all(|p| match &self.ids[*p as usize] {
            // A well-formed unknown ID is any that names nothing; the rest must be equal.
            Id::Unknown => !fixtures.knows(request.id(*p)) && request.id(*p) != task,
            _ => mine.id(*p) == request.id(*p),
        });
        same_ids
            && mine.method == request.method
            && mine.retry_mode == request.retry_mode
            && mine.extra_query == request.extra_query
            && mine.credentials == request.credentials
            && mine.shape == request.shape
    }

    /// Whether a request a server sees as `parts`, which its classifier calls `kind` on a
    /// failed task, is of this door's family: the same kind, method, credentials, retry_mode
    /// values and form, and its IDs in capitals or with the same ending where the door's are
    /// (a server's view: it tells a JSON body from another body no more than the classifier).
    pub(crate) fn seen_in(
        &self,
        spec: &Spec,
        parts: &crate::contract::classify::Parts<'_>,
        kind: Kind,
    ) -> bool {
        use crate::contract::classify::{Departure, Identity, decode};
        let method = self.method.as_deref().unwrap_or(&spec.operation.method);
        let identity = match self.credentials {
            Credentials::Valid => Identity::Valid,
            Credentials::Missing => Identity::Nothing,
            _ => Identity::Invalid,
        };
        let ids = IdParam::ALL.iter().all(|p| {
            let seen = parts.ids[*p as usize].as_ref();
            match &self.ids[*p as usize] {
                Id::Upper => seen.chars().any(|c| c.is_ascii_uppercase()),
                Id::Template(t) => t
                    .split_once("{id}")
                    .is_some_and(|(_, end)| seen.ends_with(decode(end).as_ref())),
                _ => true,
            }
        });
        kind == self.kind
            && parts.method == method
            && parts.identity == identity
            && parts
                .retry_mode
                .iter()
                .map(|v| v.as_ref())
                .eq(self.retry_mode.iter().map(String::as_str))
            && parts.departure == Departure::of(&self.shape)
            && ids
    }

    /// Whether a conforming server may serve it as the retry it names (a form the page does
    /// not define): its acceptance is no fault, it consumes the task.
    pub(crate) fn may_be_served(&self, spec: &Spec) -> bool {
        spec.expectation(self.kind).accepts()
    }
}

/// The shape a spec entry gives its door's request.
pub(crate) fn shape_of(d: &DoorSpec) -> Shape {
    let path = match d.path {
        None => PathForm::Page,
        Some(DoorPath::TrailingSlash) => PathForm::TrailingSlash,
        Some(DoorPath::DoubledSlash) => PathForm::DoubledSlash,
        Some(DoorPath::WordsInCapitals) => PathForm::WordsInCapitals,
    };
    let headers = d
        .header
        .iter()
        .filter_map(|h| h.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Shape {
        path,
        headers,
        body: d.body.clone().map(|b| (d.content_type.clone(), b)),
        version: d.version.unwrap_or_default(),
    }
}

/// A door the spec lists that a conforming server would accept: the spec is wrong.
#[derive(Debug, thiserror::Error)]
#[error(
    "spec: doors: `{door}` is a {kind} request on a failed task, which a conforming server accepts: a door must be refused"
)]
pub(crate) struct AcceptedDoor {
    pub door: String,
    pub kind: Kind,
}

/// Refuses a spec one of whose doors a conforming server would accept, naming its line in
/// `text` (the spec file's text).
pub fn check(
    spec: &Spec,
    text: &str,
    file: &std::path::Path,
) -> Result<(), crate::file_error::FileError> {
    let reach = Reach {
        aksk: true,
        foreign_project: Some("0f0f0f0f0f0f4f0f8f0f0f0f0f0f0f0f"),
    };
    of_spec(spec, reach).map(drop).map_err(|e| crate::file_error::FileError::Invalid {
        file: file.to_owned(),
        line: crate::file_error::line_of(text, &format!("door: {}", e.door), 0),
        key: "grammar".to_owned(),
        message: format!(
            "`{}` is a {} request on a failed task, which a conforming server accepts: a door must be refused",
            e.door, e.kind
        ),
    })
}

/// The spec's doors the target can send, in the spec's order.
pub(crate) fn of_spec(spec: &Spec, reach: Reach<'_>) -> Result<Vec<Door>, AcceptedDoor> {
    let mut doors = Vec::new();
    for (family, d) in spec.families() {
        let Some(door) = Door::from_spec(spec, &family, d, reach) else {
            continue;
        };
        if !door.is_refused(spec) {
            return Err(AcceptedDoor {
                door: door.name,
                kind: door.kind,
            });
        }
        doors.push(door);
    }
    Ok(doors)
}

/// The door of `doors` that `request`, sent on `task`, went through, if any.
pub(crate) fn door_of(
    doors: &[Door],
    fixtures: &Fixtures,
    task: &str,
    request: &Request,
) -> Option<usize> {
    doors.iter().position(|d| d.sends(fixtures, task, request))
}

/// `scenario_doors` (those refused) first, then the spec's doors no scenario already sends.
pub fn all(spec: &Spec, scenario_doors: Vec<Door>, spec_doors: Vec<Door>) -> Vec<Door> {
    let shape = |d: &Door| {
        (
            d.ids.clone(),
            d.method.clone(),
            d.retry_mode.clone(),
            d.extra_query.clone(),
            d.credentials,
            d.shape.clone(),
        )
    };
    let mut out: Vec<Door> = Vec::new();
    for d in scenario_doors.into_iter().chain(spec_doors) {
        if !d.is_refused(spec) {
            continue;
        }
        match out.iter_mut().find(|o| shape(o) == shape(&d)) {
            // A scenario sends the family's request already: it is that family's door.
            Some(same) => same.family = same.family.take().or(d.family),
            None => out.push(d),
        }
    }
    // By class, so that a group split between classes tells the clause, then the family (a
    // form a server may serve is a refusal's kind, the last of them). On a task, such a door
    // is sent last (`sending_order`).
    out.sort_by_key(|d| class(spec, d));
    out
}

/// The order in which the doors of `group` go on a task: a door a server may serve as the
/// retry last, since served it consumes the task (it is then the task's witness).
pub(crate) fn sending_order(spec: &Spec, group: &mut [(usize, Door)]) {
    group.sort_by_key(|(_, d)| d.may_be_served(spec));
}

/// A door's class: the clause that judges what it did (the refusals' first, then what is
/// not the operation and never acts), then its kind.
pub fn class(spec: &Spec, door: &Door) -> (u8, u8) {
    let e = spec.expectation(door.kind);
    let own_clause = e
        .never_acts
        .as_ref()
        .is_some_and(|c| *c != spec.rules.refusal_leaves_task);
    let kind = Kind::ALL.iter().position(|k| *k == door.kind).unwrap_or(0);
    (u8::from(own_clause), u8::try_from(kind).unwrap_or(u8::MAX))
}

/// What a scenario's request changes of the plain retry, in a few words.
fn describe(request: &Request, survey: &Fixtures) -> String {
    let mut parts = Vec::new();
    if let Some(m) = &request.method {
        parts.push(m.clone());
    }
    match request.credentials {
        Credentials::Valid => {}
        other => parts.push(format!("credentials {other:?}").to_lowercase()),
    }
    for p in IdParam::ALL {
        let (id, own) = match p {
            IdParam::Project => (&request.project_id, &survey.project_id),
            IdParam::Cluster => (&request.cluster_id, &survey.cluster_id),
            IdParam::Action => continue,
        };
        if id != own {
            let shown = if survey.knows(id) || id.len() > 40 {
                crate::shown::shorten(id)
            } else {
                "unknown".to_owned()
            };
            parts.push(format!("{} {shown}", p.name()));
        }
    }
    if !request.retry_mode.is_empty() {
        let values: Vec<String> = request
            .retry_mode
            .iter()
            .map(|v| format!("{:?}", crate::shown::shorten(v)))
            .collect();
        parts.push(format!("retry_mode {}", values.join(", ")));
    }
    for (name, value) in &request.extra_query {
        parts.push(format!("{name}={value}"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(aksk: bool) -> Reach<'static> {
        Reach {
            aksk,
            foreign_project: Some("0f0f0f0f0f0f4f0f8f0f0f0f0f0f0f0f"),
        }
    }

    #[test]
    fn every_door_of_the_embedded_spec_is_refused_and_of_its_family() {
        let spec = Spec::embedded();
        let doors = of_spec(&spec, reach(true)).unwrap();
        assert_eq!(doors.len(), spec.families().count());
        let kind = |name: &str| doors.iter().find(|d| d.name == name).unwrap().kind;
        assert_eq!(kind("no credentials"), Kind::MissingCredentials);
        assert_eq!(kind("a stale X-Sdk-Date"), Kind::InvalidCredentials);
        assert_eq!(kind("PATCH"), Kind::OtherMethod);
        assert_eq!(kind("retry_mode a look-alike"), Kind::InvalidRetryMode);
        assert_eq!(kind("retry_mode given twice"), Kind::RepeatedRetryMode);
        assert_eq!(kind("action_id with an encoded space"), Kind::MalformedId);
        assert_eq!(
            kind("the task under an unknown cluster"),
            Kind::UnknownCluster
        );
        assert_eq!(
            kind("the task in another account's project"),
            Kind::ForeignProject
        );
    }

    #[test]
    fn doors_the_target_cannot_send_are_left_out() {
        let spec = Spec::embedded();
        let token = of_spec(
            &spec,
            Reach {
                aksk: false,
                foreign_project: None,
            },
        )
        .unwrap();
        assert!(!token.iter().any(|d| d.name.contains("signature")));
        assert!(!token.iter().any(|d| d.ids.contains(&Id::Foreign)));
        assert_eq!(token.len(), spec.families().count() - 3);
    }

    #[test]
    fn a_door_a_conforming_server_accepts_is_refused_by_the_tool() {
        let mut spec = Spec::embedded();
        // An encoded hyphen decodes to the real ID: the plain retry, accepted.
        spec.grammar[0].families[0].credentials = None;
        spec.grammar[0].families[0].action_id = Some("{id}".into());
        let err = of_spec(&spec, reach(false)).unwrap_err();
        assert_eq!(err.kind, Kind::Retry);
        assert!(err.to_string().contains("no credentials"), "{err}");
    }

    #[test]
    fn a_door_becomes_the_request_on_each_task() {
        let spec = Spec::embedded();
        let doors = of_spec(&spec, reach(false)).unwrap();
        let upper = doors
            .iter()
            .find(|d| d.name == "action_id in upper case")
            .unwrap();
        let f = Fixtures::builtin();
        let r = upper.request(&f, "bcdb711c-a7f0-4007-b8ee-000000000001", "u");
        assert_eq!(r.action_id, "BCDB711C-A7F0-4007-B8EE-000000000001");
        assert_eq!(r.project_id, f.project_id);
        assert!(upper.sends(&f, "bcdb711c-a7f0-4007-b8ee-000000000001", &r));
        assert!(!upper.sends(&f, "bcdb711c-a7f0-4007-b8ee-000000000002", &r));
    }

    #[test]
    fn a_scenario_door_the_spec_lists_too_is_kept_once() {
        let spec = Spec::embedded();
        let survey = Fixtures::builtin();
        let mut request = Door::from_spec(
            &spec,
            "retry_mode/upper-case",
            &spec.grammar[2].families[0],
            reach(false),
        )
        .unwrap()
        .request(&survey, &survey.failed_action_ids[3], "u");
        request.action_id = survey.failed_action_ids[3].clone();
        let from_scenario = Door::from_scenario(
            &spec,
            "retry_mode.feature:41",
            &request,
            &survey,
            reach(false),
        );
        let doors = all(
            &spec,
            vec![from_scenario],
            of_spec(&spec, reach(false)).unwrap(),
        );
        assert_eq!(
            doors[0].name,
            "retry_mode \"ABORT\" (retry_mode.feature:41)"
        );
        assert!(
            !doors
                .iter()
                .any(|d| d.name == spec.grammar[2].families[0].door)
        );
        // On a task, a form a server may serve goes last: served, it consumes the task.
        let mut group: Vec<(usize, Door)> = doors.into_iter().enumerate().collect();
        sending_order(&spec, &mut group);
        let served = group
            .iter()
            .position(|(_, d)| d.may_be_served(&spec))
            .unwrap();
        assert!(group[served..].iter().all(|(_, d)| d.may_be_served(&spec)));
        assert!(
            group[..served]
                .iter()
                .any(|(_, d)| d.kind == Kind::OtherMethod)
        );
    }
}
