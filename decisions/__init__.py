"""The expert decision-workflow tracker: domain, workflow, storage and charts.

Importable and testable without Streamlit; the app's pages call into it."""
