"""Attachments: photos and PDFs of papers, uploaded resumably (tus 1.0.0) and attached to filings and
supplements, forwarded to the agency with the dossier."""
