import streamlit as st

st.title("testing")
st.info("This page is being built.")
