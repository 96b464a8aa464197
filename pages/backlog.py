import streamlit as st

st.title("backlog")
st.info("This page is being built.")
