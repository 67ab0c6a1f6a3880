//! Venezuelan address rules, as pure functions: phone numbers normalised to
//! E.164, national ids (cédula V/E, RIF J/G/V/E/P with its check digit), and
//! the 23 states plus Distrito Capital (and the Federal Dependencies).

/// The federal entities: 23 states, Distrito Capital, Dependencias Federales.
pub const STATES: [&str; 25] = [
    "Amazonas",
    "Anzoátegui",
    "Apure",
    "Aragua",
    "Barinas",
    "Bolívar",
    "Carabobo",
    "Cojedes",
    "Delta Amacuro",
    "Distrito Capital",
    "Falcón",
    "Guárico",
    "La Guaira",
    "Lara",
    "Mérida",
    "Miranda",
    "Monagas",
    "Nueva Esparta",
    "Portuguesa",
    "Sucre",
    "Táchira",
    "Trujillo",
    "Yaracuy",
    "Zulia",
    "Dependencias Federales",
];

fn fold(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' | 'ü' => 'u',
            other => other,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The canonical name of a state, accepting any case and missing accents
/// (`merida` -> `Mérida`; `Vargas`, the old name, -> `La Guaira`).
pub fn state(name: &str) -> Option<&'static str> {
    let wanted = fold(name);
    if wanted == "vargas" {
        return Some("La Guaira");
    }
    STATES.iter().copied().find(|s| fold(s) == wanted)
}

/// Mobile operator prefixes (without the leading 0).
const MOBILE: [&str; 5] = ["412", "414", "424", "416", "426"];

/// The geographic area codes of Venezuela's fixed network (without the
/// leading 0): 0212 Caracas, 0234-0239 (Miranda, Guárico, the federal
/// dependencies), 0240-0249, 0251-0259, 0261-0269, 0271-0279, 0281-0289 and
/// 0291-0295. Any other `02xx` (such as London's 020) is not Venezuelan.
fn is_area_code(prefix: &str) -> bool {
    let Ok(n) = prefix.parse::<u16>() else {
        return false;
    };
    matches!(n, 212 | 234 | 235 | 237..=249 | 251..=259 | 261..=269 | 271..=279 | 281..=289 | 291..=295)
}

/// A Venezuelan phone number in E.164 (`+584141234567`), from the forms
/// people write: `0414-123.45.67`, `(0212) 555 1234`, `+58 414 1234567`,
/// `58 4141234567`, `4141234567`.
pub fn phone_e164(raw: &str) -> Result<String, &'static str> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if raw
        .chars()
        .any(|c| !(c.is_ascii_digit() || " -.()+".contains(c)))
    {
        return Err("may hold only digits, spaces, '+', '-', '.', '(' and ')'");
    }
    let international = raw.trim_start().starts_with('+');
    let national = if let Some(rest) = digits.strip_prefix("58").filter(|r| r.len() == 10) {
        rest.to_string()
    } else if international {
        // `+` and ten digits is another country's number, not +58.
        return Err("must be a Venezuelan number (+58)");
    } else if let Some(rest) = digits.strip_prefix('0').filter(|r| r.len() == 10) {
        rest.to_string()
    } else if digits.len() == 10 {
        digits
    } else {
        return Err("must be a Venezuelan number such as 0414-1234567 or 0212-5551234");
    };
    let prefix = &national[..3];
    if !(MOBILE.contains(&prefix) || is_area_code(prefix)) {
        return Err(
            "must start with a mobile prefix (0412, 0414, 0416, 0424, 0426) or a Venezuelan area code (0212, 0241, 0261, ...)",
        );
    }
    Ok(format!("+58{national}"))
}

/// A national id, normalised (`V-12345678`, `J-12345678-9`).
pub fn national_id(raw: &str) -> Result<String, &'static str> {
    let compact: String = raw
        .chars()
        .filter(|c| !" -.".contains(*c))
        .collect::<String>()
        .to_uppercase();
    let mut chars = compact.chars();
    let letter = chars.next().ok_or("is required")?;
    let digits: String = chars.collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || digits.is_empty() {
        return Err("must be a letter (V, E, J, G, P) followed by digits");
    }
    match letter {
        // A cédula: 6 to 8 digits; with 9 digits it is a personal RIF.
        'V' | 'E' if (6..=8).contains(&digits.len()) => Ok(format!("{letter}-{digits}")),
        'V' | 'E' | 'J' | 'G' | 'P' if digits.len() == 9 => {
            let (body, check) = digits.split_at(8);
            if rif_check_digit(letter, body) == check.parse::<u32>().ok() {
                Ok(format!("{letter}-{body}-{check}"))
            } else {
                Err("the RIF check digit does not match")
            }
        }
        'V' | 'E' => Err("a cédula has 6 to 8 digits; a RIF 8 digits and a check digit"),
        'J' | 'G' | 'P' => Err("a RIF has 8 digits and a check digit, such as J-12345678-9"),
        _ => Err("must start with V or E (cédula) or J, G, P (RIF)"),
    }
}

/// The RIF check digit (modulo 11 with weights 3,2,7,6,5,4,3,2 after the letter's value).
pub fn rif_check_digit(letter: char, body: &str) -> Option<u32> {
    let letter_value = match letter {
        'V' => 1,
        'E' => 2,
        'J' => 3,
        'P' => 4,
        'G' => 5,
        _ => return None,
    };
    let weights = [3, 2, 7, 6, 5, 4, 3, 2];
    let digits: Vec<u32> = body
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    if digits.len() != 8 {
        return None;
    }
    let sum: u32 = letter_value * 4 + digits.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>();
    let rest = 11 - sum % 11;
    Some(if rest >= 10 { 0 } else { rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise_to_e164() {
        for raw in [
            "0414-123.45.67",
            "+58 414 1234567",
            "58 4141234567",
            "4141234567",
            "(0414) 123 4567",
        ] {
            assert_eq!(phone_e164(raw), Ok("+584141234567".into()), "{raw}");
        }
        assert_eq!(phone_e164("0212-555.12.34"), Ok("+582125551234".into()));
        assert!(phone_e164("0414-12345").is_err());
        assert!(phone_e164("0999-1234567").is_err());
        assert!(phone_e164("+1 305 555 1234").is_err());
        assert!(phone_e164("0414-CALL-ME").is_err());
        // Foreign numbers that look Venezuelan at a glance.
        assert!(
            phone_e164("020 7946 0958").is_err(),
            "London, national format"
        );
        assert!(
            phone_e164("+4141234567").is_err(),
            "+ and ten digits is not +58"
        );
        assert!(phone_e164("+1 212 555 1234").is_err());
        assert!(phone_e164("0200-1234567").is_err());
        assert!(phone_e164("0250-1234567").is_err());
        for ok in [
            "0241-8231234",
            "0261-7981234",
            "0295-2631234",
            "+58 212 5551234",
            "0234-3211234",
        ] {
            assert!(phone_e164(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn cedulas_and_rifs_are_checked() {
        assert_eq!(national_id("v12.345.678"), Ok("V-12345678".into()));
        assert_eq!(national_id("E-81234567"), Ok("E-81234567".into()));
        // Published RIFs of two banks: Banco de Venezuela and Banesco.
        assert_eq!(national_id("J-00002961-0"), Ok("J-00002961-0".into()));
        assert_eq!(national_id("j070133805"), Ok("J-07013380-5".into()));
        // 3*4 + (1*3 + 2*2 + 3*7 + 4*6 + 5*5 + 6*4 + 7*3 + 8*2) = 150; 150 % 11 = 7; 11 - 7 = 4
        assert_eq!(rif_check_digit('J', "12345678"), Some(4));
        assert_eq!(national_id("J-12345678-4"), Ok("J-12345678-4".into()));
        assert!(national_id("J-12345678-5").is_err());
        assert!(national_id("J-1234").is_err());
        assert!(national_id("X-12345678").is_err());
        assert!(national_id("V-123").is_err());
        assert!(national_id("").is_err());
    }

    #[test]
    fn states_accept_any_case_and_missing_accents() {
        assert_eq!(state("merida"), Some("Mérida"));
        assert_eq!(state("  DISTRITO   capital "), Some("Distrito Capital"));
        assert_eq!(state("Vargas"), Some("La Guaira"));
        assert_eq!(state("Florida"), None);
        assert_eq!(STATES.len(), 25);
    }
}
