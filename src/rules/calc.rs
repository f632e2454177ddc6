//! Calculators: they apply the rules data to the facts in a question and
//! explain the result in plain English with the working shown. They say
//! "may be able to", never "will get", and end with the route to a proper
//! assessment. The figures come only from `rules.toml`, which `kb check`
//! keeps in step with the pages cited.

use std::sync::LazyLock;

use regex::Regex;

use super::parse::{facts, Amount, Approx, Facts, Occupant, Setting};
use super::{money, thousands, Rules};
use crate::config::Council;

/// A calculator's answer: sentences to lead the reply and the pages they rest on.
#[derive(Debug, Clone)]
pub struct Calculation {
    pub name: &'static str,
    pub sentences: Vec<String>,
    pub pages: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Answer(Calculation),
    /// The calculator applies but a fact is missing: one short question.
    Clarify {
        name: &'static str,
        question: String,
    },
    /// Not a calculator question.
    None,
}

fn has(m: &str, words: &[&str]) -> bool {
    words.iter().any(|w| m.contains(w))
}

/// Runs whichever calculator the question calls for. A calculation with no
/// page to cite is not given: every answer shows its sources.
pub fn calculate(question: &str, rules: &Rules, council: &Council) -> Outcome {
    match calculate_any(question, rules, council) {
        Outcome::Answer(c) if c.pages.is_empty() => {
            tracing::debug!(calculator = c.name, "no page to cite, so no calculation");
            Outcome::None
        }
        other => other,
    }
}

/// Questions that mention money, a home or a benefit but ask something no
/// calculator works out: whether the assessment itself is free, putting off
/// the sale of a home, or when (at what age) a benefit or pass starts. The
/// pages answer them.
static NOT_A_CALCULATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \bassessments?\s+(is\s+|are\s+)?(free|charged|chargeable)\b
        | \bfree\s+(care\s+needs\s+|needs\s+|financial\s+)?assessment
        | \b(is|are)\s+(the|an|a|their|my|her|his)\s+(\w+\s+){0,2}assessments?\s+free
        | \bpay\s+for\s+(the|an|a|my|her|his|their)\s+(own\s+)?(\w+\s+)?assessment
        | \bpay\s+(for\s+)?(\w+\s+)?(to\s+be|being|getting|to\s+get)\s+assessed
        | \bassessed\s+(\w+\s+){0,3}(free|for\s+free|cost|charge)
        | \b(cost|price|charge)\s+(of|for)\s+(the|an|a)\s+(\w+\s+)?assessment
        | \b(put\s+off|delay|defer|postpone|avoid|not\s+have\s+to|dont\s+have\s+to|without)\s+selling
        | \bdeferr?(ed|ing)?\s+payment
        | \bwhen\s+(can|do|does|will|could)\s+(i|you|we|she|he|they|my\s+\w+|mum|dad)\s+(get|qualify|claim|apply)
        | \b(what|which)\s+age\b
        | \bhow\s+old\s+(do|does|must|should)\b
        | \bkeep\s+(each|every|a|per)\s+week\b
        | \bkeep\b.{0,40}\bfor\s+(herself|himself|themselves|myself)\b
        | \b(personal\s+expenses|pocket\s+money|minimum\s+income\s+guarantee)\b
        | \b(quicker|faster|fast\s+track|special\s+rules|terminally|end\s+of\s+life)\b
        | \b(days|weeks|months|year|years)\s+(left\s+)?to\s+live\b
        | \b(challenge|appeal|reconsider|look\s+again\s+at)\b
        | \b(i|we|she|he|they)\s+(already\s+)?know\s+(that\s+)?(i|we|she|he|they)\s+(will\s+)?(have\s+to\s+|must\s+|need\s+to\s+|ll\s+)?(pay|fund)",
    )
    .unwrap()
});

/// Asking whether the council will arrange care (and what it charges for
/// that) is a question about the service, not about the person's own
/// contribution, unless "how much" they will pay is asked too.
static ARRANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(council|you|they|social\s+services)\s+(still\s+)?(sort\s+out|sort|arrange|organise|organize|set\s+up|book|find)\s+(\w+\s+){0,3}(care|carers|home\s+care|care\s+workers|a\s+care\s+home|for\s+me|for\s+her|for\s+him|for\s+us)\b").unwrap()
});

/// An amount that is the price of something ("a hoist that costs £1,500"),
/// not the person's savings.
static ITEM_PRICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(that|which|it|they|will|would|should)\s+(costs?|comes?\s+to)\s+(about\s+|around\s+|over\s+|nearly\s+)?£?\d|\bcosting\s+(about\s+|around\s+)?£?\d").unwrap()
});

fn calculate_any(question: &str, rules: &Rules, council: &Council) -> Outcome {
    if rules.is_empty() {
        return Outcome::None;
    }
    let m = super::parse::matching_form(question);
    if NOT_A_CALCULATION.is_match(&m) || (ARRANGE.is_match(&m) && !m.contains(" how much")) {
        return Outcome::None;
    }
    let f = facts(question);
    let ctx = Ctx {
        rules,
        council,
        f: &f,
    };
    let asks_home_counted = has(
        &m,
        &[" house", " home ", " property", " flat ", " bungalow"],
    ) && has(
        &m,
        &[
            " count",
            " sell",
            " value",
            " take ",
            " taken",
            " lose",
            " worth",
            " included",
            " ignored",
            " use my",
            " use her",
            " use his",
            " have to go",
            " keep ",
        ],
    );
    let pays = has(
        &m,
        &[
            " pay",
            " cost",
            " charge",
            " fees",
            " afford",
            " contribut",
            " count",
            " free",
            " means test",
            " financial assessment",
            " how much will",
            " have to fund",
            " fund ",
        ],
    );
    let benefit = has(
        &m,
        &[
            " benefit",
            " attendance allowance",
            " pip ",
            " personal independence",
            " bus pass",
            " pension credit",
            " entitled",
            " claim",
            " allowance",
        ],
    );
    let grant = has(
        &m,
        &[
            " grant",
            " dfg",
            " disabled facilities",
            " adaptation",
            " stairlift",
            " stair lift",
            " ramp",
            " wet room",
            " level access",
            " walk in shower",
            " grab rail",
            " hand rail",
            " rails ",
            " widen",
            " through floor lift",
        ],
    );
    let grant_money = has(
        &m,
        &[
            " how much",
            " most",
            " maximum",
            " max ",
            " pay for",
            " cover",
            " cost",
            " free",
            " afford",
            " quote",
            " limit",
            " up to",
            " wages",
            " income",
            " savings",
            " means test",
            " affect",
        ],
    );
    let caring = has(
        &m,
        &[
            " care for",
            " look after",
            " looking after",
            " caring",
            " carer",
        ],
    );
    let claim = has(
        &m,
        &[
            " claim",
            " benefit",
            " money",
            " entitled",
            " allowance",
            " can i get",
            " what can i",
        ],
    );
    let carers_allowance = has(&m, &[" carers allowance", " carer allowance"]);

    if (carers_allowance && (f.hours.is_some() || f.earnings().is_some()))
        || (caring && claim && f.hours.is_some_and(|h| h >= 10.0))
    {
        return ctx.carers_allowance();
    }
    let short_stay = has(
        &m,
        &[
            " respite",
            " short stay",
            " temporary",
            " temporarily",
            " for a few weeks",
            " for 2 weeks",
            " for two weeks",
            " trial",
        ],
    );
    // About a particular person's home, not how the rules work in general.
    let personal = has(
        &m,
        &[
            " my ", " mum", " dad", " i ", " im ", " we ", " our ", " his ", " her ", " wife",
            " husband", " nan", " gran", " she ", " he ",
        ],
    );
    if f.setting == Some(Setting::CareHome) && asks_home_counted && !short_stay && personal {
        let timing = has(
            &m,
            &[
                " how long",
                " when do",
                " when will",
                " before they",
                " how soon",
                " start counting",
            ],
        );
        return ctx.home_counted(timing);
    }
    if let Some(s) = f.savings() {
        if pays && !grant && !ITEM_PRICE.is_match(&m) {
            return ctx.savings(s);
        }
    }
    if grant && grant_money {
        return ctx.grant();
    }
    if benefit && (f.age.is_some() || f.over_pension_age.is_some()) {
        return ctx.benefits(&m);
    }
    if has(
        &m,
        &[
            " attendance allowance",
            " pip ",
            " bus pass",
            " pension credit",
        ],
    ) && has(
        &m,
        &[
            " can she get",
            " can he get",
            " can i get",
            " can they get",
            " can mum get",
            " can dad get",
            " can my ",
            " could she get",
            " could he get",
            " could i get",
            " eligible",
            " qualify",
            " entitled",
        ],
    ) && f.age.is_none()
        && f.over_pension_age.is_none()
        && !has(&m, &[" terminally", " what is", " whats "])
    {
        return Outcome::Clarify {
            name: "benefits",
            question: "I can work that out with you. How old is the person who would claim?".into(),
        };
    }
    Outcome::None
}

/// What a person told the "check what you might pay" form.
#[derive(Debug, Clone, Copy)]
pub struct PayingAnswers {
    pub savings: Amount,
    pub setting: Setting,
    /// Only asked for a care home.
    pub owns_home: bool,
    pub occupant: Option<Occupant>,
}

/// The "check what you might pay" form: the same calculators as the chat,
/// applied to facts given in the form's fields instead of in a sentence.
/// Sentences said by more than one calculator are given once.
pub fn what_you_might_pay(a: &PayingAnswers, rules: &Rules, council: &Council) -> Calculation {
    let f = Facts {
        amounts: vec![a.savings],
        setting: Some(a.setting),
        occupant: a.occupant,
        ..Facts::default()
    };
    let ctx = Ctx {
        rules,
        council,
        f: &f,
    };
    let mut parts = vec![ctx.savings(a.savings)];
    if a.setting == Setting::CareHome && a.owns_home {
        parts.push(ctx.home_counted(false));
    }
    let mut out = Calculation {
        name: "paying",
        sentences: Vec::new(),
        pages: Vec::new(),
    };
    for p in parts {
        if let Outcome::Answer(c) = p {
            for s in c.sentences {
                if !out.sentences.contains(&s) {
                    out.sentences.push(s);
                }
            }
            for pg in c.pages {
                if !out.pages.contains(&pg) {
                    out.pages.push(pg);
                }
            }
        }
    }
    // The route to a proper assessment goes last.
    let route = ctx.assessment_route();
    out.sentences.retain(|s| *s != route);
    out.sentences.push(route);
    out
}

struct Ctx<'a> {
    rules: &'a Rules,
    council: &'a Council,
    f: &'a Facts,
}

impl Ctx<'_> {
    fn v(&self, id: &str) -> f64 {
        self.rules.value(id)
    }

    fn assessment_route(&self) -> String {
        format!(
            "Your income also matters, so only a financial assessment can work out exactly what you will pay. To ask for one, call {}.",
            self.council.front_door()
        )
    }

    /// How savings affect what you pay, with tariff income worked out.
    fn savings(&self, s: Amount) -> Outcome {
        if !self.rules.current(&[
            "lower_capital_limit",
            "upper_capital_limit",
            "tariff_step",
            "tariff_per_step",
        ]) {
            return Outcome::None;
        }
        let (lower, upper) = (self.v("lower_capital_limit"), self.v("upper_capital_limit"));
        let (step, per) = (self.v("tariff_step"), self.v("tariff_per_step"));
        let x = s.effective();
        let said = match s.approx {
            Approx::About => format!("about {}", money(s.value)),
            Approx::Under => format!("just under {}", money(s.value)),
            Approx::Over => format!("just over {}", money(s.value)),
            Approx::Exact => money(s.value),
        };
        let mut out = Vec::new();
        if x <= lower {
            out.push(format!(
                "Savings and other capital of {} or less are not counted, so with savings of {said} your savings will not be counted in the financial assessment.",
                money(lower)
            ));
            out.push("You may still pay something towards your care from your income.".to_string());
        } else if x <= upper {
            let above = x - lower;
            let steps = (above / step).ceil();
            let tariff = steps * per;
            out.push(format!(
                "With savings of {said}, you will usually pay something towards your care."
            ));
            out.push(format!(
                "Savings between {} and {} count as \"tariff income\": £{} a week for every {}, or part of {}, above {}.",
                money(lower), money(upper), thousands(per), money(step), money(step), money(lower)
            ));
            let exact = (above / step).fract() == 0.0;
            out.push(if exact {
                format!(
                    "{} is {} above {}, and {} divided by {} is {}, so the tariff income is {} a week.",
                    money(x), money(above), money(lower), money(above), money(step), thousands(steps), money(tariff)
                )
            } else {
                format!(
                    "{} is {} above {}, which is {} whole or part {}s, so the tariff income is {} a week.",
                    money(x), money(above), money(lower), thousands(steps), money(step), money(tariff)
                )
            });
        } else {
            out.push(format!(
                "With savings of {said}, which is more than the upper limit of {}, you will usually pay the full cost of your care until your savings fall to {}.",
                money(upper), money(upper)
            ));
        }
        let cite = match self.f.setting {
            Some(Setting::CareHome) => {
                out.push("For a care home, the value of your home may also be counted, unless someone such as your partner still lives there.".to_string());
                "savings_care_home"
            }
            Some(Setting::Home) => {
                out.push("For care at home, the value of your home is not counted.".to_string());
                "savings_at_home"
            }
            None => {
                out.push("For care at home, the value of your home is not counted, but for a care home it may be.".to_string());
                "savings_at_home"
            }
        };
        out.push(self.assessment_route());
        Outcome::Answer(Calculation {
            name: "savings",
            sentences: out,
            pages: self.rules.cites(cite),
        })
    }

    /// Whether the home is counted for care home fees. Asks who lives there
    /// only when nothing else in the question lets it answer.
    fn home_counted(&self, timing: bool) -> Outcome {
        let weeks = thousands(self.v("property_disregard_weeks"));
        let age = thousands(self.v("qualifying_relative_age"));
        let child = thousands(self.v("qualifying_child_age"));
        let who = match self.f.occupant {
            Some(w) => w,
            None if timing || self.f.savings().is_some() => Occupant::NoneThatCounts,
            None => return Outcome::Clarify {
                name: "home",
                question: format!(
                    "Whether your home counts depends on who will still live in it. Will your husband, wife or partner, a relative aged {age} or over, a disabled relative or a child under {child} you support still live there?"
                ),
            },
        };
        let protected = match who {
            Occupant::Partner => Some("your partner"),
            Occupant::RelativeOver60 => Some("a relative aged 60 or over"),
            Occupant::DisabledRelative => Some("a disabled relative"),
            Occupant::Child => Some("a child under 18 you support"),
            Occupant::NoneThatCounts => None,
        };
        let mut out = Vec::new();
        match protected {
            Some(p) => {
                out.push(format!(
                    "The value of your home is not counted while {p} still lives there."
                ));
                out.push(format!(
                    "The home is not counted when your partner, a relative aged {age} or over, a disabled relative or a child under {child} you support lives there."
                ));
            }
            None => {
                out.push(format!(
                    "Unless your partner, a relative aged {age} or over, a disabled relative or a child under {child} you support still lives there, your home usually counts as capital, but not for the first {weeks} weeks after you move into a care home for good."
                ));
                out.push(format!(
                    "The first {weeks} weeks are called the {weeks}-week property disregard."
                ));
                out.push("A deferred payment agreement can let you delay selling your home to pay the fees.".to_string());
            }
        }
        out.push(self.assessment_route());
        Outcome::Answer(Calculation {
            name: "home",
            sentences: out,
            pages: self.rules.cites("home_counted"),
        })
    }

    /// Benefits someone may be able to claim from their age and situation.
    fn benefits(&self, m: &str) -> Outcome {
        if !self.rules.current(&[
            "state_pension_age",
            "state_pension_age_future",
            "pip_minimum_age",
        ]) {
            return Outcome::None;
        }
        let spa = self.v("state_pension_age");
        let spa_latest = self.v("state_pension_age_future");
        let pip_from = self.v("pip_minimum_age");
        let over = match (self.f.age, self.f.over_pension_age) {
            // From 67 everyone has reached it; under 66 nobody has; at 66 it
            // depends on the date of birth.
            (Some(a), _) if (a as f64) >= spa_latest => Some(true),
            (Some(a), _) if (a as f64) < spa => Some(false),
            (Some(_), _) => None,
            (None, o) => o,
        };
        let who = match self.f.age {
            Some(a) => format!("Someone aged {a}"),
            None => "Someone".to_string(),
        };
        let mut out = Vec::new();
        let asks_aa = m.contains("attendance allowance");
        let asks_pip = m.contains(" pip ") || m.contains("personal independence");
        match over {
            Some(true) => {
                out.push(format!("{who} is over State Pension age."));
                let aa = format!(
                    "They may be able to get Attendance Allowance if they need help with personal care because of an illness or disability, usually for at least {} months, and Attendance Allowance is not means-tested.",
                    thousands(self.rules.value("attendance_allowance_months").max(6.0))
                );
                if asks_pip {
                    out.push(format!(
                        "New claims for Personal Independence Payment (PIP) are for people aged {} up to State Pension age, so Attendance Allowance is the one to look at.",
                        thousands(pip_from)
                    ));
                }
                out.push(aa);
                if !asks_aa || m.contains("benefit") || m.contains("bus pass") {
                    out.push("They may also be able to get an older person's bus pass, and Pension Credit if their income is low.".to_string());
                }
            }
            Some(false) => {
                out.push(format!(
                    "{who} is under State Pension age, which is {} or more, depending on the date of birth.",
                    thousands(spa)
                ));
                if asks_aa {
                    out.push(
                        "Attendance Allowance is only for people of State Pension age or older."
                            .to_string(),
                    );
                }
                match self.f.age {
                    Some(a) if (a as f64) < pip_from => out.push(format!(
                        "Personal Independence Payment (PIP) starts at age {}.",
                        thousands(pip_from)
                    )),
                    _ => out.push(format!(
                        "They may be able to get Personal Independence Payment (PIP) if they have a long-term illness or disability: a new claim can be made from age {} until State Pension age.",
                        thousands(pip_from)
                    )),
                }
                out.push("A disabled person's bus pass is possible at any age for people who are eligible.".to_string());
            }
            None => {
                out.push(format!(
                    "State Pension age is {} for people born before 6 April 1960 and rises to {} for people born on or after 6 March 1961, so at {} it depends on the date of birth.",
                    thousands(spa),
                    thousands(spa_latest),
                    thousands(spa)
                ));
                out.push("You can check your own State Pension age on the GOV.UK website. A new claim for PIP must be made before State Pension age; after it, Attendance Allowance is the benefit to claim, and anyone who already gets PIP keeps it.".to_string());
            }
        }
        out.push(format!(
            "Our welfare rights and money advice team can check what you may be able to claim on {}.",
            self.council.welfare_rights_phone
        ));
        let mut pages = self.rules.cites("benefits");
        if m.contains("bus pass") {
            pages.splice(0..0, self.rules.cites("bus_pass"));
        }
        Outcome::Answer(Calculation {
            name: "benefits",
            sentences: out,
            pages,
        })
    }

    /// The most a grant can pay, and free minor adaptations.
    fn grant(&self) -> Outcome {
        if !self
            .rules
            .current(&["dfg_maximum", "minor_adaptations_limit"])
        {
            return Outcome::None;
        }
        let max = self.v("dfg_maximum");
        let minor = self.v("minor_adaptations_limit");
        let mut out = vec![format!(
            "The most a Disabled Facilities Grant can pay in England is {}, and it is means-tested for adults but not for disabled children.",
            money(max)
        )];
        let cost = self.f.cost().filter(|c| c.value >= 50.0);
        if self.f.age.is_some_and(|a| a < 18) {
            out.push("For a disabled child, a Disabled Facilities Grant is not means-tested, so your wages and savings do not affect it.".to_string());
        }
        match cost {
            Some(c) if c.value <= minor => out.insert(
                0,
                format!(
                    "Minor adaptations that cost {} or less each are free if the council assesses that you need them, so a {} adaptation should not cost you anything. Equipment (aids) that the council assesses you need is free whatever it costs.",
                    money(minor),
                    money(c.value)
                ),
            ),
            Some(c) if c.value > max => out.push(format!(
                "For work costing {}, a grant could pay at most {}, leaving {} to find in another way.",
                money(c.value),
                money(max),
                money(c.value - max)
            )),
            Some(c) => out.push(format!(
                "Work costing {} is within the {} limit, but you may be asked to pay part of it after the means test.",
                money(c.value),
                money(max)
            )),
            None => out.push(format!(
                "Equipment (aids) that the council assesses you need is free whatever it costs, and minor adaptations that cost {} or less each are free too.",
                money(minor)
            )),
        }
        out.push(format!(
            "The first step is an assessment by an occupational therapist: call {}.",
            self.council.front_door()
        ));
        Outcome::Answer(Calculation {
            name: "grant",
            sentences: out,
            pages: self.rules.cites("grant"),
        })
    }

    /// Carer's Allowance hours and earnings.
    fn carers_allowance(&self) -> Outcome {
        if !self
            .rules
            .current(&["carers_allowance_hours", "carers_allowance_earnings_limit"])
        {
            return Outcome::None;
        }
        let hours = self.v("carers_allowance_hours");
        let limit = self.v("carers_allowance_earnings_limit");
        let year = self
            .rules
            .get("carers_allowance_earnings_limit")
            .map(|r| r.year.clone())
            .unwrap_or_default();
        let mut out = Vec::new();
        if let Some(h) = self.f.hours {
            if h >= hours {
                out.push(format!(
                    "Caring for {} hours a week meets the Carer's Allowance rule of at least {} hours a week, so you may be able to get Carer's Allowance if the person you care for gets certain disability benefits.",
                    thousands(h.min(168.0)), thousands(hours)
                ));
            } else {
                out.push(format!(
                    "Carer's Allowance needs at least {} hours a week of caring, so {} hours a week is not enough on its own.",
                    thousands(hours),
                    thousands(h)
                ));
            }
        }
        if let Some(e) = self.f.earnings() {
            if e.value > limit {
                out.push(format!(
                    "Earnings of {} a week after deductions are above the Carer's Allowance earnings limit of {} a week ({year}), so you could not get Carer's Allowance at those earnings.",
                    money(e.value), money(limit)
                ));
            } else {
                out.push(format!(
                    "Earnings of {} a week after deductions are within the Carer's Allowance earnings limit of {} a week ({year}).",
                    money(e.value), money(limit)
                ));
            }
        }
        out.push("Carer's Allowance figures change each April.".to_string());
        out.push(format!(
            "Our welfare rights and money advice team can check this with you on {}.",
            self.council.welfare_rights_phone
        ));
        Outcome::Answer(Calculation {
            name: "carers-allowance",
            sentences: out,
            pages: self.rules.cites("carers_allowance"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::Problem;

    fn rules() -> Rules {
        let path = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/knowledge-base/rules.toml"
        ));
        let mut problems: Vec<Problem> = Vec::new();
        let today = time::macros::date!(2026 - 11 - 29);
        let r = Rules::parse(
            path,
            &std::fs::read_to_string(path).unwrap(),
            today,
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        r
    }

    fn answer(q: &str) -> String {
        match calculate(q, &rules(), &crate::config::test_council()) {
            Outcome::Answer(c) => c.sentences.join(" "),
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn calculators_answer_only_what_they_calculate() {
        let r = rules();
        let c = crate::config::test_council();
        for q in [
            "mum has about 60k in savings so im guessing she has to pay for her own assessment? or is it free",
            "is the care needs assessment free if i have 30,000 in the bank",
            "can i put off selling my house to pay care home fees",
            "dad is going into a care home, can he delay selling his house",
            "when can i get a free bus pass",
            "what age can mum get attendance allowance",
            "how much money does mum keep each week for herself in a care home",
            "dad might only have a year to live, can he get attendance allowance quicker",
            "the occupational therapist says mum needs a hoist that costs £1,500, do we have to pay for it",
            "how long have i got to challenge an attendance allowance decision",
            "mum has about 40k in the bank, do we have to pay for her to be assessed for care",
            "i have over 23k so i know i pay for my own care but can the council still sort out the carers for me? is there a charge for that",
        ] {
            assert!(matches!(calculate(q, &r, &c), Outcome::None), "{q}: {:?} {:?}", super::super::parse::matching_form(q), calculate(q, &r, &c));
        }
        for q in [
            "I have £20,000 in savings, will I have to pay for care at home?",
            "mum has 60k in savings, will she have to pay for her care home",
            "mum has 30k and wants to live in a care home, will she have to pay for herself",
            "how much could a grant give me for a stairlift",
            "i have 30k, can the council arrange my care and how much will i pay",
        ] {
            assert!(matches!(calculate(q, &r, &c), Outcome::Answer(_)), "{q}");
        }
    }

    #[test]
    fn the_form_gives_the_same_working_as_the_chat() {
        let r = rules();
        let c = crate::config::test_council();
        let twenty = Amount {
            value: 20_000.0,
            approx: Approx::Exact,
            role: super::super::parse::Role::Savings,
        };
        let home = what_you_might_pay(
            &PayingAnswers {
                savings: twenty,
                setting: Setting::Home,
                owns_home: true,
                occupant: None,
            },
            &r,
            &c,
        );
        let text = home.sentences.join(" ");
        assert!(text.contains("£23 a week"), "{text}");
        assert!(text.contains("value of your home is not counted"), "{text}");
        assert_eq!(home.pages[0], "paying-for-care-at-home");
        assert!(home
            .sentences
            .last()
            .unwrap()
            .contains("financial assessment"));
        let care_home = what_you_might_pay(
            &PayingAnswers {
                savings: twenty,
                setting: Setting::CareHome,
                owns_home: true,
                occupant: Some(Occupant::Partner),
            },
            &r,
            &c,
        );
        let text = care_home.sentences.join(" ");
        assert!(
            text.contains("not counted while your partner still lives there"),
            "{text}"
        );
        assert_eq!(text.matches("financial assessment").count(), 1, "{text}");
        assert!(care_home
            .pages
            .contains(&"paying-for-a-care-home".to_string()));
        let alone = what_you_might_pay(
            &PayingAnswers {
                savings: twenty,
                setting: Setting::CareHome,
                owns_home: true,
                occupant: Some(Occupant::NoneThatCounts),
            },
            &r,
            &c,
        );
        assert!(alone.sentences.join(" ").contains("12 weeks"));
    }

    #[test]
    fn capital_boundaries() {
        let at = |amount: &str| {
            answer(&format!(
                "i have {amount} in savings, will i have to pay for care at home"
            ))
        };
        let a = at("£14,250");
        assert!(
            a.contains("not be counted") && !a.contains("tariff income is"),
            "{a}"
        );
        let a = at("£14,251");
        assert!(a.contains("tariff income is £1 a week"), "{a}");
        let a = at("£23,250");
        assert!(a.contains("tariff income is £36 a week"), "{a}");
        let a = at("£23,251");
        assert!(a.contains("full cost"), "{a}");
        let a = at("£14,500");
        assert!(a.contains("tariff income is £1 a week"), "{a}");
        let a = at("£14,501");
        assert!(a.contains("tariff income is £2 a week"), "{a}");
    }

    #[test]
    fn the_issue_example() {
        let a = answer(
            "my savings are about 20 thousand pounds, will i have to pay for carers at home",
        );
        assert!(
            a.contains("you will usually pay something towards your care"),
            "{a}"
        );
        assert!(a.contains("value of your home is not counted"), "{a}");
        assert!(a.contains("£23 a week"), "{a}");
        assert!(
            a.contains("£1 a week for every £250, or part of £250, above £14,250"),
            "{a}"
        );
        assert!(a.contains("01632 960100"), "{a}");
    }

    #[test]
    fn every_wording_of_twenty_thousand() {
        for q in [
            "I've got 20 grand saved, will I have to pay for care?",
            "i have £20k in savings do i have to pay for carers",
            "we have twenty thousand pounds saved will we pay for care",
            "she has about 20,000 in the bank, will she have to pay for her care",
        ] {
            assert!(answer(q).contains("£23 a week"), "{q}: {}", answer(q));
        }
        let a =
            answer("i have just under fifteen thousand saved, will i have to pay for home care");
        assert!(
            a.contains("just under £15,000") && a.contains("£3 a week"),
            "{a}"
        );
    }

    #[test]
    fn home_counted_needs_to_know_who_lives_there() {
        match calculate(
            "will they count my house if i go into a care home",
            &rules(),
            &crate::config::test_council(),
        ) {
            Outcome::Clarify { question, .. } => {
                assert!(question.contains("partner"), "{question}")
            }
            o => panic!("{o:?}"),
        }
        let a =
            answer("will they count my house if i go into a care home? my wife still lives there");
        assert!(
            a.contains("not counted while your partner still lives there"),
            "{a}"
        );
        let a = answer("will they take my house when i go into a care home, i live alone");
        assert!(
            a.contains("first 12 weeks") && a.contains("deferred payment"),
            "{a}"
        );
        let a = answer("I'm going into a care home but my 16 year old grandson lives with me. Is my house counted?");
        assert!(a.contains("a child under 18 you support"), "{a}");
        let a = answer(
            "How long before they start counting mum's house after she moves into a care home?",
        );
        assert!(a.contains("12 weeks"), "{a}");
        assert!(matches!(
            calculate(
                "dad is going into the care home for 2 weeks respite, do they count his house",
                &rules(),
                &crate::config::test_council()
            ),
            Outcome::None
        ));
    }

    #[test]
    fn benefits_by_age_say_may() {
        let a = answer("mum is 68, can she get attendance allowance");
        assert!(
            a.contains("over State Pension age")
                && a.contains("may be able to get Attendance Allowance"),
            "{a}"
        );
        assert!(!a.contains("will get") && !a.contains("is eligible"), "{a}");
        let a = answer("i'm 45 and disabled, what benefits can i claim");
        assert!(
            a.contains("under State Pension age") && a.contains("Personal Independence Payment"),
            "{a}"
        );
        let a = answer("she's over state pension age, what benefits could she get");
        assert!(a.contains("Attendance Allowance"), "{a}");
        let a = answer("i am 66, can i get a bus pass");
        assert!(a.contains("depends on the date of birth"), "{a}");
        match calculate(
            "can mum get attendance allowance",
            &rules(),
            &crate::config::test_council(),
        ) {
            Outcome::Clarify { question, .. } => assert!(question.contains("How old")),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn grants_and_carers_allowance() {
        let a = answer("how much could a grant give me for a stairlift");
        assert!(a.contains("£30,000"), "{a}");
        let a = answer("the quote for the wet room is £38,000, how much will the grant cover");
        assert!(a.contains("leaving £8,000"), "{a}");
        let a = answer("do i have to pay for a grab rail costing £50");
        assert!(a.contains("free"), "{a}");
        let a = answer("i care for my mum 40 hours a week, can i get carers allowance");
        assert!(a.contains("may be able to get Carer's Allowance"), "{a}");
        let a = answer("i look after dad 20 hours a week can i get carers allowance");
        assert!(a.contains("not enough"), "{a}");
        let a = answer(
            "my mum gets attendance allowance and i care for her 50 hrs a week, what can i claim",
        );
        assert!(
            a.contains("may be able to get Carer's Allowance") && a.contains("35 hours"),
            "{a}"
        );
        let a = answer(
            "Our son is 9 and needs a level access shower. Will our wages affect the grant?",
        );
        assert!(a.contains("not means-tested"), "{a}");
        let a = answer("can i get carers allowance if i earn £250 a week");
        assert!(
            a.contains("above the Carer's Allowance earnings limit of £204 a week (2026 to 2027)"),
            "{a}"
        );
        // The boundary: £204 is within the limit, a penny more is not.
        let a = answer("can i get carers allowance if i earn £204 a week after deductions");
        assert!(
            a.contains("within the Carer's Allowance earnings limit of £204"),
            "{a}"
        );
        let a = answer("can i get carers allowance if i earn £204.01 a week");
        assert!(
            a.contains("above the Carer's Allowance earnings limit"),
            "{a}"
        );
        let a = answer("i earn £200 a week, can i still get carers allowance");
        assert!(a.contains("within"), "{a}");
    }
}
