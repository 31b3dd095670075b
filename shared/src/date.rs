//! Calendar dates (the jury's day, a birth date): checked where they are made, counted in
//! days since 1970 for the relay's schedules. Pure: no clock here, the day is given.

use serde::{Deserialize, Serialize};

/// A calendar date, checked: only a real day between 1900 and 2200 is made, parsed or
/// read from the wire (a candidate's birth date as well as a jury's day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "(i64, u32, u32)", into = "(i64, u32, u32)")]
pub struct Date {
    year: i64,
    month: u32,
    day: u32,
}

/// Not a day of the calendar (between 1900 and 2200).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("date attendue (AAAA-MM-JJ)")]
pub struct NotADate;

impl TryFrom<(i64, u32, u32)> for Date {
    type Error = NotADate;

    fn try_from((year, month, day): (i64, u32, u32)) -> Result<Date, NotADate> {
        Date::new(year, month, day).ok_or(NotADate)
    }
}

impl From<Date> for (i64, u32, u32) {
    fn from(d: Date) -> (i64, u32, u32) {
        (d.year, d.month, d.day)
    }
}

impl Date {
    pub fn new(year: i64, month: u32, day: u32) -> Option<Date> {
        if !(1900..=2200).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.trim().splitn(3, '-');
        let year: i64 = parts.next()?.parse().ok()?;
        let month: u32 = parts.next()?.parse().ok()?;
        let day: u32 = parts.next()?.parse().ok()?;
        Date::new(year, month, day)
    }

    /// A day as people write it in a form: `YYYY-MM-DD` (what a date field gives) or
    /// `jj/mm/aaaa` (one-digit day and month, dots or dashes taken too).
    pub fn read(s: &str) -> Option<Date> {
        let s = s.trim();
        if let Some(day) = Date::parse(s) {
            return Some(day);
        }
        let parts: Vec<&str> = s.split(['/', '.', '-']).collect();
        match parts.as_slice() {
            [d, m, y]
                if (1..=2).contains(&d.len()) && (1..=2).contains(&m.len()) && y.len() == 4 =>
            {
                Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
            }
            _ => None,
        }
    }

    /// `jj/mm/aaaa`, as French forms print a day.
    pub fn french_numeric(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// Whole years from `self` (a birth date) to `on`; `None` when `on` comes first.
    pub fn years_to(self, on: Date) -> Option<u32> {
        if on < self {
            return None;
        }
        let before_birthday = (on.month, on.day) < (self.month, self.day);
        u32::try_from(on.year - self.year - i64::from(before_birthday)).ok()
    }

    /// Days since 1970-01-01 (proleptic Gregorian calendar).
    pub fn days_since_epoch(self) -> i64 {
        let (y, m) = if self.month <= 2 {
            (self.year - 1, self.month + 9)
        } else {
            (self.year, self.month - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m as i64 + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date { year, month, day }
    }

    /// The day (UTC) of a time in milliseconds since 1970.
    pub fn of_ms(ms: i64) -> Date {
        Date::from_days_since_epoch(ms.div_euclid(24 * 3600 * 1000))
    }

    /// "2 décembre 2026".
    pub fn in_french(self) -> String {
        const MONTHS: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        let day = if self.day == 1 {
            "1er".to_string()
        } else {
            self.day.to_string()
        };
        format!("{day} {} {}", MONTHS[self.month as usize - 1], self.year)
    }

    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_and_counted_like_the_calendar() {
        assert_eq!(Date::parse("1899-12-31"), None, "before 1900");
        assert_eq!(Date::parse("2201-01-01"), None, "after 2200");
        assert_eq!(
            Date::parse("1900-01-01").unwrap().days_since_epoch(),
            -25_567
        );
        assert_eq!(
            Date::parse("2026-11-30").unwrap().days_since_epoch(),
            20_787
        );
        assert_eq!(Date::parse("2028-02-29").unwrap().iso(), "2028-02-29");
        for bad in [
            "2027-02-29",
            "2026-13-01",
            "2026-04-31",
            "demain",
            "2026-1",
            "",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        for days in [0, 10_957, 20_787, 21_000, 60_000] {
            assert_eq!(Date::from_days_since_epoch(days).days_since_epoch(), days);
        }
        assert_eq!(
            Date::parse("2026-12-01").unwrap().in_french(),
            "1er décembre 2026"
        );
    }

    #[test]
    fn a_day_is_read_as_a_form_gives_it_or_as_people_write_it() {
        let day = Date::parse("1989-04-12").unwrap();
        for written in [
            "1989-04-12",
            "12/04/1989",
            " 12/4/1989 ",
            "12.04.1989",
            "12-04-1989",
        ] {
            assert_eq!(Date::read(written), Some(day), "{written}");
        }
        for not_a_day in ["31/04/1989", "04/1989", "12/04/89", "vers 1989", "1989", ""] {
            assert_eq!(Date::read(not_a_day), None, "{not_a_day}");
        }
        assert_eq!(day.french_numeric(), "12/04/1989");
    }

    #[test]
    fn an_age_counts_the_birthdays_passed() {
        let born = Date::parse("1989-04-12").unwrap();
        let age = |on: &str| born.years_to(Date::parse(on).unwrap());
        assert_eq!(age("2026-04-11"), Some(36), "the day before the birthday");
        assert_eq!(age("2026-04-12"), Some(37), "on the birthday");
        assert_eq!(age("1989-04-12"), Some(0));
        assert_eq!(age("1989-04-11"), None, "before birth");
        let leap = Date::parse("2000-02-29").unwrap();
        assert_eq!(leap.years_to(Date::parse("2001-02-28").unwrap()), Some(0));
        assert_eq!(leap.years_to(Date::parse("2001-03-01").unwrap()), Some(1));
    }

    #[test]
    fn a_date_read_from_the_wire_is_a_real_day() {
        let date = Date::parse("2027-03-15").unwrap();
        let bytes = postcard::to_stdvec(&date).unwrap();
        assert_eq!(postcard::from_bytes::<Date>(&bytes).unwrap(), date);
        for (y, m, d) in [(2027, 2, 29), (2027, 13, 1), (1899, 12, 31), (2027, 4, 0)] {
            let forged = postcard::to_stdvec(&(y as i64, m as u32, d as u32)).unwrap();
            assert!(
                postcard::from_bytes::<Date>(&forged).is_err(),
                "{y}-{m}-{d}"
            );
        }
    }
}
