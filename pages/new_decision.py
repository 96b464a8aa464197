import streamlit as st

st.title("new_decision")
st.info("This page is being built.")
