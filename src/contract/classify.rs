//! Which kind of request this is: the one rule, beside the oracle that judges by it. The stub
//! answers with it; the steps and the strategies label their cases themselves, and a test
//! proves every label equals what this function says.
//!
//! The order of the checks is the order a server meets the faults in: another method is not
//! the operation; a form the page does not define (the path's shape, a method-override
//! header, a body) may not be routed to it; then credentials; then the form of the IDs; then `retry_mode`; then whose
//! project and cluster; then the task's state.

use std::borrow::Cow;
use std::collections::BTreeSet;

use percent_encoding::percent_decode_str;

use crate::contract::request::{Credentials, PathForm, Request, Shape};
use crate::contract::spec::{IdParam, Kind, Spec};

/// The credentials a request presented, as the server judged them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    Nothing,
    Valid,
    Invalid,
}

impl Identity {
    /// What a conforming server makes of credentials a request was built with.
    pub fn of(credentials: Credentials) -> Identity {
        match credentials {
            Credentials::Valid => Identity::Valid,
            Credentials::Missing => Identity::Nothing,
            Credentials::Wrong | Credentials::TamperedSignature | Credentials::StaleDate => {
                Identity::Invalid
            }
        }
    }
}

/// The state of an upgrade task, as far as the operation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    Failed,
    /// Retrying, aborted, running, done: anything but failed.
    NotFailed,
}

/// A request taken apart into what its kind depends on: the method, the path parameters and
/// the query as the server decodes them, and the credentials as the server judged them.
#[derive(Debug, Clone)]
pub struct Parts<'a> {
    pub method: Cow<'a, str>,
    /// project_id, cluster_id, action_id, decoded.
    pub ids: [Cow<'a, str>; 3],
    /// The decoded values of `retry_mode`, in order.
    pub retry_mode: Vec<Cow<'a, str>>,
    /// Whether parameters the page does not define came too.
    pub extra_query: bool,
    pub identity: Identity,
    /// What of its form the page does not define, if anything.
    pub departure: Option<Departure>,
}

/// What of a request's form the page does not define, as a server sees it: the path's shape
/// around the IDs, a method-override header, a body. A server may serve such a request as the
/// operation or refuse it; refused, it must not act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    Path(PathForm),
    /// A header that asks for another method (`X-HTTP-Method-Override` and its kin).
    MethodOverride,
    Body,
}

/// The headers that ask a server to take a request for another method than its own.
pub(crate) const METHOD_OVERRIDE_HEADERS: [&str; 3] = [
    "X-HTTP-Method-Override",
    "X-HTTP-Method",
    "X-Method-Override",
];

impl Departure {
    /// What `shape` departs in (the path first, then a header, then a body).
    pub fn of(shape: &Shape) -> Option<Departure> {
        if shape.path != PathForm::Page {
            return Some(Departure::Path(shape.path));
        }
        let overrides = shape
            .headers
            .iter()
            .any(|(name, _)| is_method_override(name));
        if overrides {
            return Some(Departure::MethodOverride);
        }
        shape.body.as_ref().map(|_| Departure::Body)
    }
}

/// Whether a header named `name` asks for another method.
pub(crate) fn is_method_override(name: &str) -> bool {
    METHOD_OVERRIDE_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

impl Parts<'_> {
    pub fn id(&self, param: IdParam) -> &str {
        &self.ids[param as usize]
    }
}

impl<'a> Parts<'a> {
    /// The parts of a request the tool builds, as a conforming server sees them.
    pub fn of(spec: &'a Spec, request: &'a Request) -> Parts<'a> {
        Parts {
            method: Cow::Borrowed(request.method(spec)),
            ids: IdParam::ALL.map(|p| decode(request.id(p))),
            retry_mode: request
                .retry_mode
                .iter()
                .map(|v| Cow::Borrowed(v.as_str()))
                .collect(),
            extra_query: !request.extra_query.is_empty(),
            identity: Identity::of(request.credentials),
            departure: Departure::of(&request.shape),
        }
    }
}

impl<'a> Parts<'a> {
    /// The parts of a request as it came over the wire (`target`: path and query, or an
    /// absolute URI), if its path is the operation's; the credentials as `identity` says.
    pub(crate) fn of_wire(
        spec: &Spec,
        method: &'a str,
        target: &'a str,
        identity: Identity,
    ) -> Option<Parts<'a>> {
        let (path, query) = split_target(target);
        Parts::of_split(spec, method, path, query, identity)
    }

    /// `of_wire`, of a target already split into its path and its query.
    pub(crate) fn of_split(
        spec: &Spec,
        method: &'a str,
        path: &'a str,
        query: &'a str,
        identity: Identity,
    ) -> Option<Parts<'a>> {
        let (ids, form) = route_leniently(&spec.operation.path, path)?;
        let retry_name = spec.retry_mode().name.as_str();
        let mut retry_mode = Vec::new();
        let mut extra_query = false;
        for (name, value) in query_pairs(query) {
            if name == retry_name {
                retry_mode.push(value);
            } else {
                extra_query = true;
            }
        }
        Some(Parts {
            method: Cow::Borrowed(method),
            ids,
            retry_mode,
            extra_query,
            identity,
            departure: (form != PathForm::Page).then_some(Departure::Path(form)),
        })
    }

    /// The same parts, told what the message carried besides its target: a method-override
    /// header or a body (of any length but none) departs from the page's form.
    pub(crate) fn with_message<'h>(
        mut self,
        mut header_names: impl Iterator<Item = &'h str>,
        body: &[u8],
    ) -> Self {
        if self.departure.is_none() {
            if header_names.any(is_method_override) {
                self.departure = Some(Departure::MethodOverride);
            } else if !body.is_empty() {
                self.departure = Some(Departure::Body);
            }
        }
        self
    }

    /// The same parts, owning their text.
    pub fn into_owned(self) -> Parts<'static> {
        Parts {
            method: Cow::Owned(self.method.into_owned()),
            ids: self.ids.map(|id| Cow::Owned(id.into_owned())),
            retry_mode: self
                .retry_mode
                .into_iter()
                .map(|v| Cow::Owned(v.into_owned()))
                .collect(),
            extra_query: self.extra_query,
            identity: self.identity,
            departure: self.departure,
        }
    }

    /// Whether a path parameter is empty (a gateway in front answers such a path itself).
    pub(crate) fn has_empty_segment(&self) -> bool {
        self.ids.iter().any(|id| id.is_empty())
    }
}

/// The path and query of a request target, which may come in absolute form.
pub fn path_and_query(target: &str) -> &str {
    // The origin form, which nearly every request has, is told by its first byte.
    if target.starts_with('/') {
        return target;
    }
    match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    }
}

/// The path and the query of a request target, apart.
pub(crate) fn split_target(target: &str) -> (&str, &str) {
    let uri = path_and_query(target);
    uri.split_once('?').unwrap_or((uri, ""))
}

/// The decoded path parameters (project_id, cluster_id, action_id) if `path` is of
/// `template` (the operation's path).
pub fn route<'p>(template: &str, path: &'p str) -> Option<[Cow<'p, str>; 3]> {
    route_with(template, path, decode)
}

/// The path parameters as they came, not decoded, if `path` is of `template`: how a server
/// that routes on the raw path sees them.
pub(crate) fn route_raw<'p>(template: &str, path: &'p str) -> Option<[Cow<'p, str>; 3]> {
    route_with(template, path, Cow::Borrowed)
}

/// `route`, and the path's form: a path the template does not match as it is may still be
/// the operation's with a `/` at the end, a `//` in place of a `/`, or its words in another
/// case (what a lenient router serves).
fn route_leniently<'p>(template: &str, path: &'p str) -> Option<([Cow<'p, str>; 3], PathForm)> {
    if let Some(ids) = route(template, path) {
        return Some((ids, PathForm::Page));
    }
    if let Some(ids) = path.strip_suffix('/').and_then(|p| route(template, p)) {
        return Some((ids, PathForm::TrailingSlash));
    }
    let words = |t: &str, a: &str| t.eq_ignore_ascii_case(a);
    if let Some(ids) = route_matching(template, path, decode, words) {
        return Some((ids, PathForm::WordsInCapitals));
    }
    // A `//` where the template has a `/`: an empty segment between two of the template's.
    let merged = path.contains("//").then(|| collapse_slashes(path))?;
    let ids = route(template, &merged)?;
    let owned = ids.map(|id| Cow::Owned(id.into_owned()));
    Some((owned, PathForm::DoubledSlash))
}

/// `path` with each run of `/` made one.
fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

fn route_with<'p>(
    template: &str,
    path: &'p str,
    value: fn(&'p str) -> Cow<'p, str>,
) -> Option<[Cow<'p, str>; 3]> {
    route_matching(template, path, value, |t, a| t == a)
}

/// `route_with`, the template's words compared with the path's by `words`.
fn route_matching<'p>(
    template: &str,
    path: &'p str,
    value: fn(&'p str) -> Cow<'p, str>,
    words: fn(&str, &str) -> bool,
) -> Option<[Cow<'p, str>; 3]> {
    let mut actual = path.split('/');
    let mut ids: [Cow<'p, str>; 3] = Default::default();
    for t in template.split('/') {
        let a = actual.next()?;
        match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(name) => ids[IdParam::from_name(name)? as usize] = value(a),
            None if words(t, a) => {}
            None => return None,
        }
    }
    actual.next().is_none().then_some(ids)
}

/// The name and value of each parameter of a query string, decoded.
pub fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(name), decode(value))
    })
}

/// What is wrong with the values of `retry_mode` a request gave, if anything: a value the
/// page does not allow, or more than one.
pub(crate) fn retry_mode_fault<S: AsRef<str>>(spec: &Spec, values: &[S]) -> Option<Kind> {
    let allowed = &spec.retry_mode().allowed_values;
    match values {
        [] => None,
        [one] if allowed.iter().any(|a| a == one.as_ref()) => None,
        [_] => Some(Kind::InvalidRetryMode),
        _ => Some(Kind::RepeatedRetryMode),
    }
}

/// Where a request lands: the caller's own project and cluster, and the state of a task
/// (`None`: no such task).
pub struct Site<'a> {
    pub project_id: &'a str,
    pub cluster_id: &'a str,
    pub task: &'a dyn Fn(&str) -> Option<TaskState>,
}

/// The kind of request `parts` is, on `site`.
pub fn classify(spec: &Spec, site: &Site<'_>, parts: &Parts<'_>) -> Kind {
    form_fault(spec, parts).unwrap_or_else(|| on_site(site, parts))
}

/// The kinds a server may take a request of `kind` as, on `site`: `kind`, and where its only
/// fault of form is its `retry_mode` and it names no failed task of the caller's (another
/// project, an unknown cluster, an unknown task or one not failed), what it is on the site as
/// well: the page does not say which of the two a server checks first.
/// `parts` is asked for only then.
pub fn either_first<'p>(
    site: &Site<'_>,
    kind: Kind,
    parts: impl FnOnce() -> Parts<'p>,
) -> BTreeSet<Kind> {
    let mut kinds = BTreeSet::from([kind]);
    if matches!(kind, Kind::InvalidRetryMode | Kind::RepeatedRetryMode) {
        let there = on_site(site, &parts());
        if matches!(
            there,
            Kind::ForeignProject | Kind::UnknownCluster | Kind::UnknownTask | Kind::TaskNotFailed
        ) {
            kinds.insert(there);
        }
    }
    kinds
}

/// What the request itself says it is, whatever server it reaches: another method, missing or
/// invalid credentials, a malformed ID, a `retry_mode` fault; `None` for a well-formed request
/// of the operation, whose kind `on_site` tells.
fn form_fault(spec: &Spec, parts: &Parts<'_>) -> Option<Kind> {
    if parts.method != spec.operation.method {
        return Some(Kind::OtherMethod);
    }
    if parts.departure.is_some() {
        return Some(Kind::OtherShape);
    }
    match parts.identity {
        Identity::Nothing => return Some(Kind::MissingCredentials),
        Identity::Invalid => return Some(Kind::InvalidCredentials),
        Identity::Valid => {}
    }
    if IdParam::ALL.iter().any(|p| {
        !spec
            .observed_format(p.name())
            .is_some_and(|re| re.is_match(parts.id(*p)))
    }) {
        return Some(Kind::MalformedId);
    }
    retry_mode_fault(spec, &parts.retry_mode)
}

/// The kind of a well-formed request of the operation (no `form_fault`), on `site`.
fn on_site(site: &Site<'_>, parts: &Parts<'_>) -> Kind {
    if parts.id(IdParam::Project) != site.project_id {
        return Kind::ForeignProject;
    }
    if parts.id(IdParam::Cluster) != site.cluster_id {
        return Kind::UnknownCluster;
    }
    match (site.task)(parts.id(IdParam::Action)) {
        None => Kind::UnknownTask,
        Some(TaskState::NotFailed) => Kind::TaskNotFailed,
        Some(TaskState::Failed) if parts.extra_query => Kind::ExtraParameter,
        Some(TaskState::Failed) if parts.retry_mode.is_empty() => Kind::Retry,
        Some(TaskState::Failed) => Kind::Abort,
    }
}

/// The kind `request` is on a failed task of its own project and cluster: what a retry or an
/// abort the server accepted there was (a retry with a parameter the page does not define is
/// that, not a plain retry).
pub(crate) fn on_a_failed_task(spec: &Spec, request: &Request) -> Kind {
    let failed = |_: &str| Some(TaskState::Failed);
    let site = Site {
        project_id: &request.project_id,
        cluster_id: &request.cluster_id,
        task: &failed,
    };
    classify(spec, &site, &Parts::of(spec, request))
}

/// What an observer in the middle (the proxy) knows of the server a request went to: less
/// than the server itself, so a request may have several readings.
#[derive(Debug, Clone)]
pub struct Partial<'a> {
    /// The ways the server may have judged the credentials.
    pub identities: Vec<Identity>,
    /// The caller's own project and cluster, when known.
    pub site: Option<(&'a str, &'a str)>,
    /// The states the task the request names may be in (`None`: no such task).
    pub task: Vec<Option<TaskState>>,
}

/// Every kind `parts` may be, on a server of which only `partial` is known: the one
/// classifier, asked once for each way the unknowns may be.
pub fn readings<'a>(spec: &Spec, partial: &Partial<'a>, parts: &'a Parts<'_>) -> BTreeSet<Kind> {
    let mut kinds = BTreeSet::new();
    // A site is known, or the request's own project and cluster may each be the caller's
    // or not (an empty ID is nobody's: the form checks come before).
    let own = |param: IdParam, known: Option<&'a str>| -> Vec<&'a str> {
        match known {
            Some(id) => vec![id],
            None => vec![parts.id(param), ""],
        }
    };
    let projects = own(IdParam::Project, partial.site.map(|s| s.0));
    let clusters = own(IdParam::Cluster, partial.site.map(|s| s.1));
    let mut reading = parts.clone();
    for identity in &partial.identities {
        reading.identity = *identity;
        // What the request says of itself is asked once per identity; only a well-formed
        // request of the operation depends on the site and the task.
        if let Some(kind) = form_fault(spec, &reading) {
            kinds.insert(kind);
            continue;
        }
        for project in &projects {
            for cluster in &clusters {
                for state in &partial.task {
                    let task = |_: &str| *state;
                    let site = Site {
                        project_id: project,
                        cluster_id: cluster,
                        task: &task,
                    };
                    kinds.insert(on_site(&site, &reading));
                }
            }
        }
    }
    kinds
}

/// A percent-encoded piece of a URL, decoded (invalid UTF-8 replaced).
pub(crate) fn decode(s: &str) -> Cow<'_, str> {
    // Most IDs have nothing to decode: text already, borrowed as it is (what decoding would
    // give too), without the decoder's scan and the UTF-8 check after it.
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    percent_decode_str(s).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(action: &str, modes: &[&str]) -> Request {
        Request {
            project_id: "6204a5bd270343b5885144cf9c8c158d".into(),
            cluster_id: "ea244205-d641-45d9-9dcb-ab2236bcd07e".into(),
            action_id: action.into(),
            retry_mode: modes.iter().map(|s| s.to_string()).collect(),
            extra_query: Vec::new(),
            credentials: Credentials::Valid,
            method: None,
            shape: crate::contract::request::Shape::default(),
        }
    }

    const FAILED: &str = "bcdb711c-a7f0-4007-b8ee-9f13c05f8326";
    const DONE: &str = "5ba5e5c1-0000-4000-8000-00000000d0e5";

    /// `f` of the tests' site: FAILED is failed, DONE is not, any other task is unknown.
    fn on_site_of_tests<R>(f: impl FnOnce(&Site<'_>) -> R) -> R {
        let task = |id: &str| match id {
            FAILED => Some(TaskState::Failed),
            DONE => Some(TaskState::NotFailed),
            _ => None,
        };
        f(&Site {
            project_id: "6204a5bd270343b5885144cf9c8c158d",
            cluster_id: "ea244205-d641-45d9-9dcb-ab2236bcd07e",
            task: &task,
        })
    }

    fn kind_of(request: &Request) -> Kind {
        let spec = Spec::embedded();
        on_site_of_tests(|site| classify(&spec, site, &Parts::of(&spec, request)))
    }

    /// `either_first` of `request`, of the kind the classifier gives it, on the tests' site.
    fn either_way(request: &Request) -> Vec<Kind> {
        let spec = Spec::embedded();
        let kind = kind_of(request);
        on_site_of_tests(|site| either_first(site, kind, || Parts::of(&spec, request)))
            .into_iter()
            .collect()
    }

    #[test]
    fn a_bad_retry_mode_where_no_failed_task_is_may_be_refused_for_either() {
        let unknown = "00000000-5e57-4000-8000-000000000000";
        assert_eq!(
            either_way(&request(unknown, &["ABORT"])),
            [Kind::InvalidRetryMode, Kind::UnknownTask]
        );
        assert_eq!(
            either_way(&request(DONE, &["abort", "x"])),
            [Kind::RepeatedRetryMode, Kind::TaskNotFailed]
        );
        let mut elsewhere = request(FAILED, &["x"]);
        elsewhere.cluster_id = unknown.to_owned();
        assert_eq!(
            either_way(&elsewhere),
            [Kind::InvalidRetryMode, Kind::UnknownCluster]
        );
        // On a failed task of the caller's, only the bad retry_mode can be why; and another
        // fault of form, or none, is one kind.
        assert_eq!(
            either_way(&request(FAILED, &["x"])),
            [Kind::InvalidRetryMode]
        );
        assert_eq!(either_way(&request(unknown, &[])), [Kind::UnknownTask]);
        assert_eq!(
            either_way(&request("not-a-uuid", &["x"])),
            [Kind::MalformedId]
        );
    }

    #[test]
    fn classifies_retry_mode_values() {
        assert_eq!(kind_of(&request(FAILED, &[])), Kind::Retry);
        assert_eq!(kind_of(&request(FAILED, &["abort"])), Kind::Abort);
        assert_eq!(
            kind_of(&request(FAILED, &["ABORT"])),
            Kind::InvalidRetryMode
        );
        assert_eq!(kind_of(&request(FAILED, &[""])), Kind::InvalidRetryMode);
        assert_eq!(
            kind_of(&request(FAILED, &["abort", "abort"])),
            Kind::RepeatedRetryMode
        );
    }

    #[test]
    fn faults_are_met_in_the_servers_order() {
        let mut r = request(DONE, &["x"]);
        r.credentials = Credentials::Missing;
        r.method = Some("GET".into());
        assert_eq!(kind_of(&r), Kind::OtherMethod);
        r.method = None;
        assert_eq!(kind_of(&r), Kind::MissingCredentials);
        r.credentials = Credentials::StaleDate;
        assert_eq!(kind_of(&r), Kind::InvalidCredentials);
        r.credentials = Credentials::Valid;
        r.cluster_id = "EA244205-D641-45D9-9DCB-AB2236BCD07E".into();
        assert_eq!(kind_of(&r), Kind::MalformedId);
        r.cluster_id = "00000000-5e57-4000-8000-000000000000".into();
        assert_eq!(kind_of(&r), Kind::InvalidRetryMode);
        r.retry_mode.clear();
        assert_eq!(kind_of(&r), Kind::UnknownCluster);
        r.project_id = "00000000000040008000000000005e57".into();
        assert_eq!(kind_of(&r), Kind::ForeignProject);
        assert_eq!(kind_of(&request(DONE, &[])), Kind::TaskNotFailed);
        assert_eq!(
            kind_of(&request("00000000-5e57-4000-8000-000000000000", &[])),
            Kind::UnknownTask
        );
        let mut extra = request(FAILED, &[]);
        extra.extra_query.push(("dry_run".into(), "1".into()));
        assert_eq!(kind_of(&extra), Kind::ExtraParameter);
        // An encoded ID is judged as the server decodes it.
        assert_eq!(
            kind_of(&request("bcdb711c%2Da7f0-4007-b8ee-9f13c05f8326", &[])),
            Kind::Retry
        );
    }

    #[test]
    fn a_path_in_another_form_a_body_or_an_override_is_a_form_the_page_does_not_define() {
        let spec = Spec::embedded();
        let mut r = request(FAILED, &[]);
        let wire = |r: &Request| {
            let target = r.path_and_query(&spec);
            Parts::of_wire(&spec, "PUT", &target, Identity::Valid)
                .map(|p| (p.departure, p.id(IdParam::Action).to_owned()))
        };
        assert_eq!(wire(&r), Some((None, FAILED.to_owned())));
        for form in [
            PathForm::TrailingSlash,
            PathForm::DoubledSlash,
            PathForm::WordsInCapitals,
        ] {
            r.shape.path = form;
            let seen = Some(Departure::Path(form));
            assert_eq!(wire(&r), Some((seen, FAILED.to_owned())), "{form:?}");
            assert_eq!(Parts::of(&spec, &r).departure, seen);
            assert_eq!(kind_of(&r), Kind::OtherShape);
        }
        // An empty ID makes a `//` of its own: the page's form, with an empty segment.
        r.shape.path = PathForm::Page;
        r.cluster_id.clear();
        assert_eq!(wire(&r), Some((None, FAILED.to_owned())));
        // A body or a method-override header departs; a content type alone (the SDK sends
        // one on this bodiless PUT) does not.
        let target = request(FAILED, &[]).path_and_query(&spec);
        let told = |names: &[&str], body: &[u8]| {
            Parts::of_wire(&spec, "PUT", &target, Identity::Valid)
                .unwrap()
                .with_message(names.iter().copied(), body)
                .departure
        };
        assert_eq!(told(&["Content-Type"], b""), None);
        assert_eq!(told(&["Content-Type"], b"{}"), Some(Departure::Body));
        assert_eq!(
            told(&["x-http-method-override"], b""),
            Some(Departure::MethodOverride)
        );
        let mut with_body = request(FAILED, &[]);
        with_body.shape.body = Some((None, "retry_mode=abort".to_owned()));
        assert_eq!(kind_of(&with_body), Kind::OtherShape);
    }
}
