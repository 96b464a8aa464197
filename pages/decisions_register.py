import streamlit as st

st.title("decisions_register")
st.info("This page is being built.")
