//! A jury session: one sitting of a jury for a certification, which groups several
//! candidates' dossiers. What the procès-verbal (ANNEXE 4 of seed 002) needs and no dossier
//! holds: the dates, the place or the video link, the centre, the session manager and their
//! observations, the jury's members (nom, prénom, poste occupé, entreprise; inside or outside
//! the certifier, professional of the trade and for how long, their declared ties), and one
//! line per candidate (which dossier, nom, prénom, voie d'accès).
//!
//! A session travels like a dossier — an automerge document sealed with the epoch key, a
//! membership log signed by its owner (the session manager), its jurors members who read it —
//! so the relay learns no name, only that some document exists. Its document holds a root
//! map `session` instead of the Livret's sections; each member and candidate is a key of its
//! own holding JSON, so two devices adding two members merge. The candidates' results are
//! never copied here: each stays in its dossier's released decision, which the PV reads.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::referentiel::JuryRules;
use crate::review::Outcome;

/// The root key that makes a document a session.
pub const SESSION: &str = "session";
const INFO: &str = "infos";
const MEMBERS: &str = "membres";
const CANDIDATES: &str = "candidats";

/// Part 1 and part 4 of the PV: the session and its manager.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionInfo {
    /// Intitulé de la certification professionnelle.
    pub certification: String,
    /// N° d'enregistrement RNCP.
    pub rncp: String,
    /// Centre organisateur de la session.
    pub centre: String,
    /// Début and fin de la session d'évaluation (ISO dates).
    pub debut: String,
    pub fin: String,
    /// Adresse du lieu, or the video link when the session is held at a distance.
    pub lieu: String,
    pub visio: String,
    /// Nom et prénom, fonction of the session manager (no deliberative vote).
    pub responsable: String,
    pub fonction: String,
    /// The manager's observations on how the session went (part 4).
    pub observations: String,
    /// When the candidates' documents reached the jury (ISO date), for the référentiel's
    /// « au plus tard N jours avant » rule.
    pub documents_transmis: String,
}

/// A member of the jury, as the PV's « Informations jury » lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JuryMember {
    /// A random id, the member's key in the document.
    pub id: String,
    pub nom: String,
    pub prenom: String,
    pub poste: String,
    pub entreprise: String,
    /// From outside the certifier and the assessing body.
    pub externe: bool,
    /// A professional of the trade the certification leads to.
    pub professionnel: bool,
    /// Years of professional experience in the field, when given.
    pub experience_ans: Option<u32>,
    /// Dossiers (ids) of candidates this member declared a tie with.
    pub liens: Vec<String>,
}

impl JuryMember {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.prenom.trim(), self.nom.trim().to_uppercase())
            .trim()
            .to_string()
    }
}

/// The voie d'accès the PV ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Voie {
    #[default]
    Vae,
    Formation,
}

/// A candidate of the session: their dossier and the names the PV prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionCandidate {
    /// The dossier's id (hex).
    pub dossier: String,
    pub nom: String,
    pub prenom: String,
    pub voie: Voie,
}

/// A whole session, as read from its document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JurySession {
    pub info: SessionInfo,
    /// Sorted by nom, prénom.
    pub members: Vec<JuryMember>,
    /// Sorted by nom, prénom.
    pub candidates: Vec<SessionCandidate>,
}

/// One candidate's line of the PV: who, and the decision released for their dossier (`None`
/// while the jury has not released one, or it is not on the printing device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PvLine {
    pub candidate: SessionCandidate,
    pub decision: Option<crate::review::Decision>,
}

/// Everything a session's PV is made of, as the app hands it to the PDF module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPv {
    pub session: JurySession,
    pub lines: Vec<PvLine>,
    pub breaches: Vec<Breach>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("ce document n'est pas une session de jury")]
    NotASession,
}

/// Makes `doc` a session: the maps exist from the start, so no two devices race to make
/// them.
pub fn init(doc: &mut AutoCommit) {
    let session = doc
        .put_object(ROOT, SESSION, ObjType::Map)
        .expect("root is a map");
    for name in [MEMBERS, CANDIDATES] {
        doc.put_object(&session, name, ObjType::Map)
            .expect("a fresh map");
    }
}

pub fn is_session(doc: &AutoCommit) -> bool {
    session_map(doc).is_some()
}

fn session_map(doc: &AutoCommit) -> Option<ObjId> {
    match doc.get(ROOT, SESSION) {
        Ok(Some((Value::Object(ObjType::Map), id))) => Some(id),
        _ => None,
    }
}

fn child(doc: &AutoCommit, name: &str) -> Result<ObjId, SessionError> {
    let session = session_map(doc).ok_or(SessionError::NotASession)?;
    match doc.get(&session, name) {
        Ok(Some((Value::Object(ObjType::Map), id))) => Ok(id),
        _ => Err(SessionError::NotASession),
    }
}

fn json_at<T: DeserializeOwned>(doc: &AutoCommit, map: &ObjId, key: &str) -> Option<T> {
    match doc.get(map, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            automerge::ScalarValue::Str(text) => serde_json::from_str(text).ok(),
            _ => None,
        },
        _ => None,
    }
}

fn all<T: DeserializeOwned>(doc: &AutoCommit, map: &ObjId) -> Vec<T> {
    doc.keys(map)
        .filter_map(|k| json_at(doc, map, &k))
        .collect()
}

fn put<T: Serialize>(doc: &mut AutoCommit, map: &ObjId, key: &str, value: &T) {
    let json = serde_json::to_string(value).expect("session values serialise");
    doc.put(map, key, json).expect("a map");
}

/// The session in `doc`.
pub fn read(doc: &AutoCommit) -> Result<JurySession, SessionError> {
    let session = session_map(doc).ok_or(SessionError::NotASession)?;
    let info = json_at(doc, &session, INFO).unwrap_or_default();
    let mut members: Vec<JuryMember> = all(doc, &child(doc, MEMBERS)?);
    members.sort_by(|a, b| (&a.nom, &a.prenom, &a.id).cmp(&(&b.nom, &b.prenom, &b.id)));
    let mut candidates: Vec<SessionCandidate> = all(doc, &child(doc, CANDIDATES)?);
    candidates
        .sort_by(|a, b| (&a.nom, &a.prenom, &a.dossier).cmp(&(&b.nom, &b.prenom, &b.dossier)));
    Ok(JurySession {
        info,
        members,
        candidates,
    })
}

pub fn set_info(doc: &mut AutoCommit, info: &SessionInfo) -> Result<(), SessionError> {
    let session = session_map(doc).ok_or(SessionError::NotASession)?;
    put(doc, &session, INFO, info);
    Ok(())
}

pub fn put_member(doc: &mut AutoCommit, member: &JuryMember) -> Result<(), SessionError> {
    let map = child(doc, MEMBERS)?;
    put(doc, &map, &member.id, member);
    Ok(())
}

pub fn remove_member(doc: &mut AutoCommit, id: &str) -> Result<bool, SessionError> {
    let map = child(doc, MEMBERS)?;
    let there = doc.get(&map, id).ok().flatten().is_some();
    if there {
        doc.delete(&map, id).expect("a map");
    }
    Ok(there)
}

pub fn put_candidate(doc: &mut AutoCommit, c: &SessionCandidate) -> Result<(), SessionError> {
    let map = child(doc, CANDIDATES)?;
    put(doc, &map, &c.dossier, c);
    Ok(())
}

pub fn remove_candidate(doc: &mut AutoCommit, dossier: &str) -> Result<bool, SessionError> {
    let map = child(doc, CANDIDATES)?;
    let there = doc.get(&map, dossier).ok().flatten().is_some();
    if there {
        doc.delete(&map, dossier).expect("a map");
    }
    Ok(there)
}

/// Part 1's five counts, from each candidate's outcome (`None`: no decision released yet,
/// counted apart so a PV is never printed as complete while one is missing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub presents: usize,
    pub absents: usize,
    pub admis_totalement: usize,
    pub admis_partiellement: usize,
    pub refuses: usize,
    pub en_attente: usize,
}

pub fn counts<'a>(outcomes: impl IntoIterator<Item = Option<&'a Outcome>>) -> Counts {
    let mut c = Counts::default();
    for outcome in outcomes {
        match outcome {
            None => c.en_attente += 1,
            Some(Outcome::Absent | Outcome::Excuse) => c.absents += 1,
            Some(o) => {
                c.presents += 1;
                match o {
                    Outcome::Totale => c.admis_totalement += 1,
                    Outcome::Blocs { .. } | Outcome::Partielle { .. } => c.admis_partiellement += 1,
                    _ => c.refuses += 1,
                }
            }
        }
    }
    c
}

/// A rule of the référentiel the session's jury does not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Breach {
    /// The référentiel fixes the jury's size.
    Size { required: u32, actual: usize },
    /// Too few professionals with the experience required.
    Professionals {
        required: u32,
        years: Option<u32>,
        actual: usize,
    },
    /// Too small a share of members from outside.
    External {
        percent: u32,
        external: usize,
        members: usize,
    },
    /// A member declared a tie with a candidate.
    Tie { member: String, candidate: String },
    /// The documents reached the jury later than the référentiel allows (or when is not
    /// recorded).
    LateDocuments {
        days: u32,
        sent: Option<String>,
        start: String,
    },
}

impl Breach {
    pub fn label_fr(&self) -> String {
        match self {
            Breach::Size { required, actual } => format!(
                "le référentiel fixe un jury de {required} membres ; la session en compte {actual}"
            ),
            Breach::Professionals {
                required,
                years,
                actual,
            } => format!(
                "le référentiel demande au moins {required} professionnel(s){} ; la session en compte {actual}",
                years.map_or(String::new(), |y| format!(
                    " ayant au moins {y} an(s) d'expérience"
                ))
            ),
            Breach::External {
                percent,
                external,
                members,
            } => format!(
                "le référentiel demande au moins {percent} % de membres extérieurs ; la session en compte {external} sur {members}"
            ),
            Breach::Tie { member, candidate } => format!(
                "{member} a déclaré un lien avec {candidate} : le référentiel l'exclut du jury de ce candidat"
            ),
            Breach::LateDocuments { days, sent, start } => match sent {
                Some(sent) => format!(
                    "les documents ont été transmis au jury le {}, moins de {days} jours avant la session du {}",
                    french(sent),
                    french(start)
                ),
                None => format!(
                    "la date de transmission des documents au jury n'est pas renseignée (au plus tard {days} jours avant la session)"
                ),
            },
        }
    }

    pub fn label_en(&self) -> String {
        match self {
            Breach::Size { required, actual } => format!(
                "the référentiel sets a jury of {required} members; the session has {actual}"
            ),
            Breach::Professionals {
                required,
                years,
                actual,
            } => format!(
                "the référentiel requires at least {required} professional(s){}; the session has {actual}",
                years.map_or(String::new(), |y| format!(
                    " with at least {y} year(s) of experience"
                ))
            ),
            Breach::External {
                percent,
                external,
                members,
            } => format!(
                "the référentiel requires at least {percent}% of members from outside; the session has {external} of {members}"
            ),
            Breach::Tie { member, candidate } => format!(
                "{member} declared a tie with {candidate}: the référentiel excludes them from this candidate's jury"
            ),
            Breach::LateDocuments { days, sent, start } => match sent {
                Some(sent) => format!(
                    "the documents reached the jury on {sent}, less than {days} days before the session of {start}"
                ),
                None => format!(
                    "when the documents reached the jury is not recorded (at least {days} days before the session)"
                ),
            },
        }
    }
}

fn french(iso: &str) -> String {
    Date::parse(iso).map_or_else(|| iso.to_string(), Date::in_french)
}

/// The référentiel's rules the session breaks, for the candidates given (their dossier ids:
/// ties are per candidate) or all of them.
pub fn breaches(rules: &JuryRules, session: &JurySession, dossiers: &[&str]) -> Vec<Breach> {
    let mut out = Vec::new();
    let members = &session.members;
    if let Some(required) = rules.members
        && members.len() != required as usize
    {
        out.push(Breach::Size {
            required,
            actual: members.len(),
        });
    }
    if let Some(required) = rules.min_professionals {
        let years = rules.min_experience_years;
        let actual = members
            .iter()
            .filter(|m| m.professionnel)
            .filter(|m| years.is_none_or(|y| m.experience_ans.is_some_and(|e| e >= y)))
            .count();
        if actual < required as usize {
            out.push(Breach::Professionals {
                required,
                years,
                actual,
            });
        }
    }
    if let Some(percent) = rules.min_external_percent {
        let external = members.iter().filter(|m| m.externe).count();
        if members.is_empty() || external * 100 < percent as usize * members.len() {
            out.push(Breach::External {
                percent,
                external,
                members: members.len(),
            });
        }
    }
    if rules.no_tie_with_candidate {
        for c in &session.candidates {
            if !dossiers.is_empty() && !dossiers.contains(&c.dossier.as_str()) {
                continue;
            }
            for m in members.iter().filter(|m| m.liens.contains(&c.dossier)) {
                out.push(Breach::Tie {
                    member: m.full_name(),
                    candidate: format!("{} {}", c.prenom, c.nom.to_uppercase())
                        .trim()
                        .to_string(),
                });
            }
        }
    }
    if let Some(days) = rules.documents_days_before {
        let start = session.info.debut.clone();
        let sent = Date::parse(&session.info.documents_transmis);
        let late = match (sent, Date::parse(&start)) {
            (Some(sent), Some(begin)) => {
                begin.days_since_epoch() - sent.days_since_epoch() < i64::from(days)
            }
            (None, _) => true,
            (Some(_), None) => false,
        };
        if late {
            out.push(Breach::LateDocuments {
                days,
                sent: sent.map(Date::iso),
                start,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(nom: &str, externe: bool, professionnel: bool, years: Option<u32>) -> JuryMember {
        JuryMember {
            id: nom.to_lowercase(),
            nom: nom.into(),
            prenom: "Claude".into(),
            externe,
            professionnel,
            experience_ans: years,
            ..JuryMember::default()
        }
    }

    #[test]
    fn a_session_is_written_key_by_key_and_merges_two_devices() {
        let mut a = AutoCommit::new();
        init(&mut a);
        let mut b = a.fork();
        put_member(&mut a, &member("Martin", true, true, Some(4))).unwrap();
        put_member(&mut b, &member("Durand", false, true, Some(10))).unwrap();
        put_candidate(
            &mut b,
            &SessionCandidate {
                dossier: "ab".into(),
                nom: "Zola".into(),
                prenom: "Émile".into(),
                voie: Voie::Vae,
            },
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        let s = read(&a).unwrap();
        let names: Vec<&str> = s.members.iter().map(|m| m.nom.as_str()).collect();
        assert_eq!(names, ["Durand", "Martin"]);
        assert_eq!(s.candidates[0].prenom, "Émile");
        assert!(remove_member(&mut a, "durand").unwrap());
        assert_eq!(read(&a).unwrap().members.len(), 1);
        assert_eq!(read(&AutoCommit::new()), Err(SessionError::NotASession));
    }

    #[test]
    fn counts_follow_the_outcomes() {
        let partial = Outcome::Blocs { blocs: vec![1] };
        let c = counts([
            Some(&Outcome::Absent),
            Some(&partial),
            Some(&Outcome::Totale),
            Some(&Outcome::Excuse),
            Some(&Outcome::NonValidation),
            None,
        ]);
        assert_eq!(
            c,
            Counts {
                presents: 3,
                absents: 2,
                admis_totalement: 1,
                admis_partiellement: 1,
                refuses: 1,
                en_attente: 1,
            }
        );
    }

    /// 002's rules (2 professionals with 2 years, half from outside, no tie, documents 5
    /// days ahead) and 003's (5 members, 60 % outside).
    #[test]
    fn the_referentiel_rules_are_checked() {
        let rules_002 = JuryRules {
            min_professionals: Some(2),
            min_experience_years: Some(2),
            min_external_percent: Some(50),
            no_tie_with_candidate: true,
            documents_days_before: Some(5),
            ..JuryRules::default()
        };
        let mut session = JurySession {
            info: SessionInfo {
                debut: "2026-12-14".into(),
                documents_transmis: "2026-12-09".into(),
                ..SessionInfo::default()
            },
            members: vec![
                member("Martin", true, true, Some(4)),
                member("Durand", false, true, Some(2)),
            ],
            candidates: vec![SessionCandidate {
                dossier: "d1".into(),
                nom: "Zola".into(),
                prenom: "Émile".into(),
                voie: Voie::Vae,
            }],
        };
        assert_eq!(breaches(&rules_002, &session, &[]), vec![]);
        session.members[1].experience_ans = Some(1);
        session.members[1].externe = false;
        session.members[0].liens = vec!["d1".into()];
        session.info.documents_transmis = "2026-12-10".into();
        let found = breaches(&rules_002, &session, &[]);
        assert_eq!(
            found,
            vec![
                Breach::Professionals {
                    required: 2,
                    years: Some(2),
                    actual: 1
                },
                Breach::Tie {
                    member: "Claude MARTIN".into(),
                    candidate: "Émile ZOLA".into()
                },
                Breach::LateDocuments {
                    days: 5,
                    sent: Some("2026-12-10".into()),
                    start: "2026-12-14".into()
                },
            ]
        );
        assert!(found[2].label_fr().contains("10 décembre 2026"));
        // Another candidate's ties are not this one's.
        assert_eq!(breaches(&rules_002, &session, &["d2"]).len(), 2);
        let rules_003 = JuryRules {
            members: Some(5),
            min_external_percent: Some(60),
            ..JuryRules::default()
        };
        let found = breaches(&rules_003, &session, &[]);
        assert_eq!(
            found,
            vec![
                Breach::Size {
                    required: 5,
                    actual: 2
                },
                Breach::External {
                    percent: 60,
                    external: 1,
                    members: 2
                }
            ]
        );
    }
}
