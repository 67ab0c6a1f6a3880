//! Address-book use cases. Input is normalised in one place (`normalise`),
//! which reports every invalid field at once.

use diesel::prelude::*;
use uuid::Uuid;

use super::{AddressRow, repo, venezuela};
use crate::auth::Principal;
use crate::error::{AppError, ErrorCode, FieldError};

/// Most addresses one user keeps.
pub const MAX_ADDRESSES: usize = 20;

/// An address as a client sends it (all fields; a change is merged first).
#[derive(Debug, Clone, Default)]
pub struct AddressInput {
    /// A name for it.
    pub label: String,
    /// Who receives.
    pub recipient: String,
    /// Phone in any usual Venezuelan form.
    pub phone: String,
    /// Cédula or RIF.
    pub national_id: String,
    /// Federal entity, any case, accents optional.
    pub state: String,
    /// Municipality.
    pub municipality: String,
    /// City or town.
    pub city: String,
    /// Street, building, house.
    pub line1: String,
    /// Floor, apartment.
    pub line2: String,
    /// Punto de referencia.
    pub reference_point: String,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
}

fn text(errors: &mut Vec<FieldError>, field: &str, value: &str, min: usize, max: usize) -> String {
    let v = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let n = v.chars().count();
    if n < min || n > max {
        errors.push(FieldError::new(
            field,
            if min > 0 {
                format!("must have {min} to {max} characters")
            } else {
                format!("must have at most {max} characters")
            },
        ));
    }
    v
}

/// Checks and normalises every field; 422 listing all that are wrong.
pub fn normalise(input: &AddressInput) -> Result<AddressInput, AppError> {
    let mut errors = vec![];
    let mut out = AddressInput {
        label: text(&mut errors, "label", &input.label, 0, 40),
        recipient: text(&mut errors, "recipient", &input.recipient, 1, 120),
        municipality: text(&mut errors, "municipality", &input.municipality, 1, 80),
        city: text(&mut errors, "city", &input.city, 1, 80),
        line1: text(&mut errors, "line1", &input.line1, 1, 200),
        line2: text(&mut errors, "line2", &input.line2, 0, 200),
        reference_point: text(
            &mut errors,
            "reference_point",
            &input.reference_point,
            0,
            200,
        ),
        ..AddressInput::default()
    };
    match venezuela::phone_e164(&input.phone) {
        Ok(p) => out.phone = p,
        Err(m) => errors.push(FieldError::new("phone", m)),
    }
    match venezuela::national_id(&input.national_id) {
        Ok(id) => out.national_id = id,
        Err(m) => errors.push(FieldError::new("national_id", m)),
    }
    match venezuela::state(&input.state) {
        Some(s) => out.state = s.to_string(),
        None => errors.push(FieldError::new(
            "state",
            "must be one of the 23 states, Distrito Capital or Dependencias Federales",
        )),
    }
    match (input.latitude, input.longitude) {
        (None, None) => {}
        (Some(lat), Some(lng)) if (0.5..=12.5).contains(&lat) && (-73.5..=-59.5).contains(&lng) => {
            out.latitude = Some(lat);
            out.longitude = Some(lng);
        }
        (Some(_), Some(_)) => errors.push(FieldError::new(
            "latitude",
            "the point must be in Venezuela",
        )),
        _ => errors.push(FieldError::new(
            "longitude",
            "give both latitude and longitude, or neither",
        )),
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        Err(AppError::Validation {
            code: ErrorCode::ValidationFailed,
            errors,
        })
    }
}

fn row_from(
    user_id: Uuid,
    id: Uuid,
    v: AddressInput,
    is_default: bool,
    created_at: chrono::DateTime<chrono::Utc>,
) -> AddressRow {
    AddressRow {
        id,
        user_id,
        label: v.label,
        recipient: v.recipient,
        phone: v.phone,
        national_id: v.national_id,
        state: v.state,
        municipality: v.municipality,
        city: v.city,
        line1: v.line1,
        line2: v.line2,
        reference_point: v.reference_point,
        latitude: v.latitude,
        longitude: v.longitude,
        is_default,
        created_at,
        updated_at: crate::db::now(),
    }
}

/// The current fields of an address, to merge a change into.
pub fn input_of(row: &AddressRow) -> AddressInput {
    AddressInput {
        label: row.label.clone(),
        recipient: row.recipient.clone(),
        phone: row.phone.clone(),
        national_id: row.national_id.clone(),
        state: row.state.clone(),
        municipality: row.municipality.clone(),
        city: row.city.clone(),
        line1: row.line1.clone(),
        line2: row.line2.clone(),
        reference_point: row.reference_point.clone(),
        latitude: row.latitude,
        longitude: row.longitude,
    }
}

/// The user's addresses, default first.
pub fn list(conn: &mut PgConnection, user: &Principal) -> Result<Vec<AddressRow>, AppError> {
    Ok(repo::of_user(conn, user.user_id)?)
}

/// One of the user's addresses; 404 for anyone else's.
pub fn get(conn: &mut PgConnection, user: &Principal, id: Uuid) -> Result<AddressRow, AppError> {
    repo::lock_own(conn, user.user_id, id)?.ok_or(AppError::NotFound("address"))
}

/// Adds an address; the first one (or `make_default`) becomes the default.
pub fn create(
    conn: &mut PgConnection,
    user: &Principal,
    input: AddressInput,
    make_default: bool,
) -> Result<AddressRow, AppError> {
    let clean = normalise(&input)?;
    conn.transaction(|conn| {
        let existing = repo::of_user(conn, user.user_id)?;
        if existing.len() >= MAX_ADDRESSES {
            return Err(AppError::conflict(
                ErrorCode::Conflict,
                format!("at most {MAX_ADDRESSES} addresses"),
            ));
        }
        let is_default = make_default || existing.is_empty();
        if is_default {
            repo::clear_default(conn, user.user_id)?;
        }
        let now = crate::db::now();
        let row = row_from(user.user_id, Uuid::now_v7(), clean, is_default, now);
        repo::insert(conn, &row)?;
        Ok(row)
    })
}

/// Replaces an address's fields with `merged` (the current fields with the change applied).
pub fn update(
    conn: &mut PgConnection,
    user: &Principal,
    id: Uuid,
    change: impl FnOnce(&mut AddressInput),
) -> Result<AddressRow, AppError> {
    conn.transaction(|conn| {
        let current = get(conn, user, id)?;
        let mut input = input_of(&current);
        change(&mut input);
        let clean = normalise(&input)?;
        let row = row_from(
            user.user_id,
            id,
            clean,
            current.is_default,
            current.created_at,
        );
        repo::save(conn, &row)?;
        Ok(row)
    })
}

/// Makes an address the default.
pub fn make_default(
    conn: &mut PgConnection,
    user: &Principal,
    id: Uuid,
) -> Result<AddressRow, AppError> {
    conn.transaction(|conn| {
        let mut row = get(conn, user, id)?;
        repo::clear_default(conn, user.user_id)?;
        repo::set_default(conn, id)?;
        row.is_default = true;
        Ok(row)
    })
}

/// Deletes an address; if it was the default, the newest other one takes over.
pub fn delete(conn: &mut PgConnection, user: &Principal, id: Uuid) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let row = get(conn, user, id)?;
        repo::delete(conn, id)?;
        if row.is_default
            && let Some(next) = repo::of_user(conn, user.user_id)?.first()
        {
            repo::set_default(conn, next.id)?;
        }
        Ok(())
    })
}
