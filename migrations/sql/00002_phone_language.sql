-- The language each phone number chose (USSD "Language" menu, SMS LANG),
-- so that its next sessions and SMS replies start in it. Keyed by the number
-- in E.164 form, as the menus normalise it; the gateway's own table, in its
-- own schema (docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations").

-- +goose Up
CREATE TABLE imis_gateway.phone_language (
    phone      text PRIMARY KEY, -- E.164, e.g. +255712345678
    lang       text NOT NULL,    -- en, fr, sw or ne
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE imis_gateway.phone_language;
