import streamlit as st

st.title("demos")
st.info("This page is being built.")
