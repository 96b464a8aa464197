import streamlit as st

st.title("decision")
st.info("This page is being built.")
